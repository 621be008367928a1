"""Celery tasks of the registration app: thin, idempotent wrappers around the services."""

from celery import shared_task

from registration.services import attempts_delete_old
from registration.services_mrz import passport_reading_run


@shared_task(name="registration.attempts_delete_old")
def attempts_delete_old_task() -> int:
    """Delete form attempts never submitted, with their photos (hourly, from beat). Idempotent."""
    return attempts_delete_old()


# Reading takes about a second of CPU; the limits stop a pathological photo from holding a
# worker (the reading has its own budget, registration.mrz.READ_BUDGET_SECONDS).
@shared_task(
    name="registration.passport_photo_read", acks_late=True, soft_time_limit=60, time_limit=90
)
def passport_photo_read(attempt_id: int, document_id: int) -> bool:
    """Read the machine-readable zone of an attempt's passport photo; twice reads once."""
    return passport_reading_run(attempt_id=attempt_id, document_id=document_id)
