"""
Reading the passport photo of a form attempt: ask for it, run it, and read its result.

A passport photo kept with a submission attempt is read by the Celery task
``registration.tasks.passport_photo_read`` (``registration/mrz.py`` says why not in the
request). The attempt remembers which photo was read: a photo replaced since makes the
reading stale, and a stale reading is never shown. The reading is encrypted at rest (it
carries a passport number) and lives only as long as the attempt.
"""

import json
import logging

from django.db import transaction

from registration.constants import DocumentKind, MrzNote, PassportReadingStatus
from registration.documents import document_file_read
from registration.models import Document, SubmissionAttempt
from registration.mrz import MrzReading, passport_read
from registration.services import attempt_photo_add

logger = logging.getLogger(__name__)


def passport_photo_add(*, attempt: SubmissionAttempt, uploaded_file, read: bool = True) -> Document:
    """
    Keep ``uploaded_file`` as the attempt's passport photo and, if ``read``, have it read.

    Raise ValidationError (image codes) for a bad file, like ``attempt_photo_add``.
    """
    document = attempt_photo_add(
        attempt=attempt, kind=DocumentKind.PASSPORT_PAGE, uploaded_file=uploaded_file
    )
    passport_reading_request(attempt=attempt, document=document, read=read)
    return document


def passport_reading_request(
    *, attempt: SubmissionAttempt, document: Document, read: bool = True
) -> None:
    """
    Have ``document`` read after commit; with ``read=False`` record at once that it was not.
    """
    with transaction.atomic():
        if not read:
            reading = MrzReading(notes=(MrzNote.UNAVAILABLE.value,))
            SubmissionAttempt.objects.filter(pk=attempt.pk).update(
                passport_reading_status=PassportReadingStatus.DONE,
                passport_reading_document=document,
                passport_reading=json.dumps(reading.to_dict()),
            )
            return
        SubmissionAttempt.objects.filter(pk=attempt.pk).update(
            passport_reading_status=PassportReadingStatus.PENDING,
            passport_reading_document=document,
            passport_reading="",
        )
        attempt_id, document_id = attempt.pk, document.pk
        transaction.on_commit(
            lambda: _publish(attempt_id=attempt_id, document_id=document_id), robust=True
        )


def _publish(*, attempt_id: int, document_id: int) -> None:
    """Queue the reading; when the broker is away, say so at once instead of waiting."""
    from registration.tasks import passport_photo_read

    try:
        passport_photo_read.apply_async(args=[attempt_id, document_id])
    except Exception:
        logger.warning("Could not queue passport reading of attempt %s", attempt_id, exc_info=True)
        passport_reading_store(
            attempt_id=attempt_id,
            document_id=document_id,
            reading=MrzReading(notes=(MrzNote.UNAVAILABLE.value,)),
        )


def passport_reading_run(*, attempt_id: int, document_id: int) -> bool:
    """
    Read the passport photo ``document_id`` of attempt ``attempt_id``; return whether read.

    Idempotent: nothing happens unless that photo is still the attempt's pending reading
    (a task delivered twice, or after the photo was replaced, reads nothing). The reading
    itself runs outside any transaction; only storing it locks the attempt's row.
    """
    pending = SubmissionAttempt.objects.filter(
        pk=attempt_id,
        passport_reading_status=PassportReadingStatus.PENDING,
        passport_reading_document_id=document_id,
    ).exists()
    document = Document.objects.filter(pk=document_id, attempt_id=attempt_id).first()
    if not pending or document is None:
        return False
    try:
        data = document_file_read(name=document.file.name)
    except Exception:  # a missing or undecryptable file is a reading without fields
        logger.warning("Could not open passport photo %s", document_id, exc_info=True)
        data = b""
    reading = passport_read(image=data)
    return passport_reading_store(attempt_id=attempt_id, document_id=document_id, reading=reading)


def passport_reading_store(*, attempt_id: int, document_id: int, reading: MrzReading) -> bool:
    """Store ``reading`` if ``document_id`` is still the photo the attempt waits for."""
    with transaction.atomic():
        attempt = (
            SubmissionAttempt.objects.select_for_update()
            .filter(pk=attempt_id, passport_reading_document_id=document_id)
            .first()
        )
        if attempt is None or attempt.passport_reading_status == PassportReadingStatus.DONE:
            return False
        attempt.passport_reading_status = PassportReadingStatus.DONE
        attempt.passport_reading = json.dumps(reading.to_dict())
        attempt.save(update_fields=["passport_reading_status", "passport_reading"])
    return True
