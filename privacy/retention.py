"""
Retention: personal data is deleted or anonymised once it is no longer needed (PIPL arts.
19, 47).

Each app owns the rules for its own records and lists them in ``RETENTION_RULES``; a rule
is a callable ``rule(*, now, dry_run) -> RetentionOutcome``. ``retention_apply`` runs them
all: nightly from beat and by hand (``manage.py apply_retention [--dry-run]``).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from privacy.constants import AuditAction
from privacy.services import audit_prune, audit_record
from stations.models import Station


@dataclass
class RetentionOutcome:
    """What one rule deleted or anonymised (or, in a dry run, would have)."""

    rule: str
    deleted: int = 0
    anonymised: int = 0
    files: int = 0


def retention_period(name: str) -> datetime.timedelta:
    """Return the configured retention period ``name`` (days in ``settings.RETENTION``)."""
    return datetime.timedelta(days=settings.RETENTION[name])


def retention_apply(
    *,
    now: datetime.datetime | None = None,
    dry_run: bool = False,
    rules: list[Callable] | None = None,
) -> list[RetentionOutcome]:
    """Run every retention rule; return what each did."""
    now = now or timezone.now()
    if rules is None:
        rules = [import_string(path) for path in settings.RETENTION_RULES]
    return [rule(now=now, dry_run=dry_run) for rule in rules]


def retention_audit(*, rule: str, counts: dict[int | None, int], detail: str) -> None:
    """
    Tell each station what ``rule`` erased of its data: one audit entry per station, with
    ``detail`` (``%(count)d`` is that station's number), read by the station's managers.
    """
    stations = Station.objects.filter(pk__in=[pk for pk, n in counts.items() if pk and n])
    for station in stations.order_by("pk"):
        audit_record(
            user=None,
            action=AuditAction.ERASE,
            station=station,
            detail=f"{rule}: {detail % {'count': counts[station.pk]}}",
        )


def audit_entries_expire(*, now: datetime.datetime, dry_run: bool) -> RetentionOutcome:
    """Delete audit entries older than the audit retention period."""
    deleted = audit_prune(older_than=now - retention_period("audit_days"), dry_run=dry_run)
    return RetentionOutcome(rule="privacy.audit_entries", deleted=deleted)
