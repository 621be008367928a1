"""
The lost-link form: a new private link to the registration's own contact, which replaces
the old link only once it is opened.
"""

import logging
import secrets

from django.db import transaction

from core.tokens import token_hash, token_looks_valid, token_new
from registration.constants import AmendmentKind
from registration.models import Registration
from registration.selectors import document_number_index, registration_get_by_reference
from registration.services.notify import resident_notify
from registration.services.workflow import _amend, _lock

logger = logging.getLogger(__name__)


def registration_link_resend(*, reference: str, document_number: str) -> bool:
    """
    Send a new private link to the registration's own contact on file if ``reference`` and
    ``document_number`` belong together; return whether they did (never shown to the
    visitor).

    The old link keeps working until the new one is first opened
    (``registration_link_claim``): knowing both details, a stranger can only make the
    resident receive a message, never lock them out or learn the link. A newer request
    replaces a link sent earlier and not yet opened.
    """
    registration = registration_get_by_reference(reference=reference)
    if registration is None:
        return False
    index = document_number_index(document_number)
    # The registration's own resident: a document number typed into a later public form
    # belongs to another resident and never matches here.
    if not index or not secrets.compare_digest(index, registration.resident.document_number_index):
        return False
    with transaction.atomic():
        _link_pending_send(_lock(registration))
    return True


def _link_pending_send(registration: Registration, *, actor=None) -> None:
    """
    Queue a new private link to ``registration``'s contact on file (locked by the caller),
    pending until first opened (``registration_link_claim``).
    """
    raw, hashed = token_new()
    registration.pending_token_hash = hashed
    registration.save(update_fields=["pending_token_hash", "updated_at"])
    amendment = _amend(
        registration, AmendmentKind.LINK_RESENT, before=registration.status, actor=actor
    )
    resident_notify(
        registration=registration,
        template="link_resent",
        key=f"registration:{registration.pk}:link:{amendment.pk}",
        token=raw,
    )


def registration_link_claim(*, token: str) -> Registration | None:
    """
    Make ``token``, sent by the lost-link form, the private link of its registration the
    first time it is opened; the previous link stops working then. Return the registration,
    or ``None`` if ``token`` is no pending link.
    """
    if not token_looks_valid(token):
        return None
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update()
            .filter(pending_token_hash=token_hash(token), anonymised_at__isnull=True)
            .first()
        )
        if registration is None:
            return None
        registration.token_hash = registration.pending_token_hash
        registration.pending_token_hash = None
        registration.save(update_fields=["token_hash", "pending_token_hash", "updated_at"])
    logger.info("Registration %s: the link sent by the lost-link form was opened.", registration.pk)
    return registration
