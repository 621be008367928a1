"""
Reference numbers such as ``SP-7K3M-9Q2X``: the prefix names the kind or place, the body is
random, and a new record is saved under one, drawing again on the rare collision.
"""

import secrets

from django.db import IntegrityError, transaction

# No 0/O, 1/I/L or U, so references survive being read aloud, handwritten or typed from a
# photo.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_BODY_LENGTH = 8
# 30⁸ bodies per prefix: a collision is rare, five in a row means something else is wrong.
REFERENCE_TRIES = 5


def reference_new(*, prefix: str) -> str:
    """Return a fresh reference ``<prefix>-XXXX-XXXX`` of unambiguous characters."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_BODY_LENGTH))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def reference_save(obj, *, prefix: str) -> None:
    """
    Insert the new model instance ``obj`` under a fresh ``reference`` (a unique field).

    Each try is its own savepoint, so a collision leaves the caller's transaction usable;
    any other integrity error, or ``REFERENCE_TRIES`` collisions, is raised.
    """
    manager = type(obj)._default_manager
    initial_pk = obj.pk
    for attempt in range(REFERENCE_TRIES):
        obj.reference = reference_new(prefix=prefix)
        try:
            with transaction.atomic():
                obj.save()
            return
        except IntegrityError:
            if attempt + 1 < REFERENCE_TRIES and manager.filter(reference=obj.reference).exists():
                obj.pk = initial_pk
                continue
            raise
