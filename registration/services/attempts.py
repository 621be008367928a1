"""
Form attempts and their photos: what a resident uploaded before the form is sent.

A photo is sanitised outside any transaction (the slow part) and recorded with the attempt;
the submission adopts the attempt's photos. Attempts never submitted go after a while.
"""

import datetime

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.db import retry_on_lost_connection
from core.images import image_sanitize
from core.tokens import token_hash, token_new
from registration.constants import DocumentKind
from registration.documents import THUMBNAIL_SIDE, document_file_save
from registration.models import Document, Registration, SubmissionAttempt


@retry_on_lost_connection
def attempt_start(*, station=None) -> tuple[str, SubmissionAttempt]:
    """Start a form attempt; return the raw key (for the session only) and the attempt."""
    raw, hashed = token_new()
    attempt = SubmissionAttempt.objects.create(key_hash=hashed, station=station)
    return raw, attempt


@retry_on_lost_connection(atomic=False)
def attempt_get(*, key: str | None) -> SubmissionAttempt | None:
    """Return the attempt of the raw session key ``key``, or ``None``."""
    if not key:
        return None
    return SubmissionAttempt.objects.filter(key_hash=token_hash(key)).first()


def attempt_photo_add(*, attempt: SubmissionAttempt, kind: str, uploaded_file) -> Document:
    """
    Sanitise ``uploaded_file`` and keep it with ``attempt`` as its photo of ``kind``,
    replacing an earlier one. Raise ValidationError (image codes) for a bad file.
    """
    if kind not in DocumentKind.values:
        raise ValueError(f"unknown document kind {kind!r}")
    # The slow part, outside any transaction: one decode gives the photo and its thumbnail.
    clean = image_sanitize(uploaded_file, thumbnail_side=THUMBNAIL_SIDE)
    data = clean.read()
    names = [document_file_save(content=data), document_file_save(content=clean.thumbnail)]
    try:
        return _attempt_photo_record(
            attempt=attempt,
            kind=kind,
            name=names[0],
            thumbnail=names[1],
            width=clean.image_width,
            height=clean.image_height,
            size=len(data),
        )
    except Exception:
        for name in names:
            default_storage.delete(name)
        raise


@retry_on_lost_connection
def _attempt_photo_record(*, attempt, kind, name, thumbnail, width, height, size) -> Document:
    """Record the stored files as ``attempt``'s photo of ``kind`` (one transaction)."""
    for old in attempt.documents.filter(kind=kind):
        old.delete()
    return Document.objects.create(
        attempt=attempt,
        kind=kind,
        file=name,
        thumbnail=thumbnail,
        width=width,
        height=height,
        size=size,
    )


def attempts_delete_old(*, now: datetime.datetime | None = None) -> int:
    """Delete form attempts older than the configured age, with their photos."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.REGISTRATION_ATTEMPT_MAX_AGE_HOURS)
    count = 0
    for attempt in SubmissionAttempt.objects.filter(created_at__lt=cutoff).iterator():
        with transaction.atomic():
            attempt.delete()
        count += 1
    return count


def _adopt_photos(*, registration: Registration, attempt: SubmissionAttempt | None) -> int:
    if attempt is None:
        return 0
    adopted = attempt.documents.update(registration=registration, attempt=None)
    attempt.delete()
    return adopted


def _documents_carry(*, source: Registration, target: Registration, kinds: tuple[str, ...]) -> int:
    """
    Give ``target`` the latest photo of each of ``kinds`` that ``source`` holds and
    ``target`` lacks: a new row on the same encrypted file, so each registration keeps its
    own record and the file stays while any row uses it (``signals.document_file_delete``).
    """
    have = set(target.documents.values_list("kind", flat=True))
    latest: dict[str, Document] = {}
    for document in source.documents.filter(kind__in=kinds):
        latest[document.kind] = document  # ordered by upload: the last one wins
    carried = 0
    for kind, document in latest.items():
        if kind in have:
            continue
        Document.objects.create(
            registration=target,
            kind=kind,
            file=document.file.name,
            thumbnail=document.thumbnail.name,
            width=document.width,
            height=document.height,
            size=document.size,
            uploaded_at=document.uploaded_at,
        )
        carried += 1
    return carried
