"""
Retention rules of the inquiries app (listed in ``settings.RETENTION_RULES``).

Closed cases are deleted, with their thread, feedback and photo, once
``RETENTION["cases_closed_days"]`` have passed; check-in answers lose their free text after
``RETENTION["check_in_answers_days"]`` (ratings stay for the round statistics). Each
station whose cases or answers went gets an audit entry saying how many.
"""

import datetime
from collections import Counter

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count

from inquiries.constants import Status
from inquiries.models import CheckInAnswer, Inquiry
from privacy.retention import RetentionOutcome, retention_audit, retention_period

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
        batch = list(expired.order_by("pk").values_list("pk", "photo", "station_id")[:BATCH_SIZE])
        if not batch:
            return outcome
        photos = [photo for _pk, photo, _station in batch if photo]
        with transaction.atomic():
            Inquiry.objects.filter(pk__in=[pk for pk, _photo, _station in batch]).delete()
            outcome.deleted += len(batch)
            retention_audit(
                rule=outcome.rule,
                counts=Counter(station for _pk, _photo, station in batch),
                detail="%(count)d closed cases deleted",
            )

            def remove(names=photos):
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
    with transaction.atomic():
        counts = dict(
            old.order_by()
            .values("invitation__round__station_id")
            .annotate(n=Count("pk"))
            .values_list("invitation__round__station_id", "n")
        )
        outcome.anonymised = old.update(troubles="", contact_method="")
        retention_audit(
            rule=outcome.rule, counts=counts, detail="%(count)d check-in answers erased"
        )
    return outcome
