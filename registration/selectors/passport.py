"""The reading of a form attempt's passport photo, as the form page polls for it."""

import json

from registration.constants import DocumentKind, PassportReadingStatus
from registration.models import Document, SubmissionAttempt
from registration.mrz import MrzReading


def passport_reading_get(*, attempt: SubmissionAttempt | None) -> tuple[str, MrzReading | None]:
    """
    Return where the reading of the attempt's passport photo stands, and the reading once
    done. A reading of a photo replaced since counts as none: it is never shown.
    """
    if attempt is None:
        return PassportReadingStatus.NONE, None
    row = (
        SubmissionAttempt.objects.filter(pk=attempt.pk)
        .values("passport_reading_status", "passport_reading_document_id", "passport_reading")
        .first()
    )
    current = (
        Document.objects.filter(attempt_id=attempt.pk, kind=DocumentKind.PASSPORT_PAGE)
        .order_by("-uploaded_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if row is None or current is None or row["passport_reading_document_id"] != current:
        return PassportReadingStatus.NONE, None
    status = row["passport_reading_status"]
    if status != PassportReadingStatus.DONE:
        return status, None
    try:
        data = json.loads(row["passport_reading"] or "{}")
    except ValueError:
        data = {}
    return status, MrzReading.from_dict(data if isinstance(data, dict) else {})
