"""
Retention rules of the inquiries app (listed in ``settings.RETENTION_RULES``).

Closed cases are deleted, with their thread, feedback and photo, once
``RETENTION["cases_closed_days"]`` have passed; check-in answers lose their free text after
``RETENTION["check_in_answers_days"]`` (ratings stay for the round statistics).
"""

import datetime

from django.db import transaction

from inquiries.constants import Status
from inquiries.models import CheckInAnswer, Inquiry
from privacy.retention import RetentionOutcome, retention_period

BATCH_SIZE = 500


def cases_closed_expire(*, now: datetime.datetime, dry_run: bool) -> RetentionOutcome:
    """Delete cases closed longer ago than the retention period, photos included."""
    outcome = RetentionOutcome(rule="inquiries.cases_closed")
    expired = Inquiry.objects.filter(
        status=Status.CLOSED, closed_at__lt=now - retention_period("cases_closed_days")
    )
    if dry_run:
        outcome.deleted = expired.count()
        outcome.files = expired.exclude(photo="").count()
        return outcome
    while True:
        batch = list(expired.order_by("pk").values_list("pk", "photo")[:BATCH_SIZE])
        if not batch:
            return outcome
        photos = [photo for _pk, photo in batch if photo]
        with transaction.atomic():
            Inquiry.objects.filter(pk__in=[pk for pk, _photo in batch]).delete()
            outcome.deleted += len(batch)

            def remove(names=photos):
                from django.core.files.storage import default_storage

                for name in names:
                    default_storage.delete(name)

            transaction.on_commit(remove)
        outcome.files += len(photos)


def check_in_answers_expire(*, now: datetime.datetime, dry_run: bool) -> RetentionOutcome:
    """Erase the free text of check-in answers older than the retention period."""
    outcome = RetentionOutcome(rule="inquiries.check_in_answers")
    old = CheckInAnswer.objects.filter(
        created_at__lt=now - retention_period("check_in_answers_days")
    ).exclude(troubles="", contact_method="")
    if dry_run:
        outcome.anonymised = old.count()
        return outcome
    outcome.anonymised = old.update(troubles="", contact_method="")
    return outcome
