"""
Retention rules of the registration app (listed in ``settings.RETENTION_RULES``).

Ended and rejected registrations lose their personal data and photos once
``RETENTION["registrations_ended_days"]`` have passed; the rows stay, without anything that
identifies a person, so that monthly counts (by station, nationality, reason) still add up.
Each registration goes on its own: a resident another station still holds keeps their
identity, and each anonymisation is in the audit trail of the station it concerned.
Unsubmitted form attempts and their photos go after two days.
"""

import datetime

from django.conf import settings

from privacy.retention import RetentionOutcome, retention_period
from registration.constants import RegistrationStatus
from registration.models import Document, Registration, SubmissionAttempt
from registration.services import attempts_delete_old, registration_anonymise

BATCH_SIZE = 200


def registrations_ended_expire(*, now: datetime.datetime, dry_run: bool) -> RetentionOutcome:
    """Anonymise registrations ended or rejected longer ago than the retention period."""
    outcome = RetentionOutcome(rule="registration.registrations_ended")
    expired = Registration.objects.filter(
        status__in=(RegistrationStatus.ENDED, RegistrationStatus.REJECTED),
        status_changed_at__lt=now - retention_period("registrations_ended_days"),
        anonymised_at__isnull=True,
    )
    if dry_run:
        outcome.anonymised = expired.count()
        # A photo carried over to a registration that stays keeps its file.
        kept = Document.objects.exclude(registration__in=expired).values("file")
        outcome.files = (
            Document.objects.filter(registration__in=expired).exclude(file__in=kept).count()
        )
        return outcome
    while True:
        batch = list(expired.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
        if not batch:
            return outcome
        for pk in batch:
            outcome.files += registration_anonymise(registration=Registration(pk=pk))
            outcome.anonymised += 1


def attempts_expire(*, now: datetime.datetime, dry_run: bool) -> RetentionOutcome:
    """Delete form attempts never submitted, with their photos."""
    outcome = RetentionOutcome(rule="registration.attempts")
    cutoff = now - datetime.timedelta(hours=settings.REGISTRATION_ATTEMPT_MAX_AGE_HOURS)
    old = SubmissionAttempt.objects.filter(created_at__lt=cutoff)
    if dry_run:
        outcome.deleted = old.count()
        outcome.files = Document.objects.filter(attempt__in=old).count()
        return outcome
    outcome.files = Document.objects.filter(attempt__in=old).count()
    outcome.deleted = attempts_delete_old(now=now)
    return outcome
