"""What a reviewer sees before deciding: the decisions possible, what changed."""

import datetime

from django.utils import timezone
from django.utils.formats import date_format

from registration.constants import DECISION_STATUSES, TRANSITIONS
from registration.models import Registration


def registration_decisions_allowed(*, registration: Registration) -> frozenset[str]:
    """Return the decisions (``Decision``) the status of ``registration`` allows now."""
    allowed = TRANSITIONS.get(registration.status, ())
    return frozenset(
        decision for decision, status in DECISION_STATUSES.items() if status in allowed
    )


# What a reviewer compares between two versions of a stay (not bookkeeping columns).
REVIEW_FIELDS = (
    "station",
    "address",
    "accommodation_type",
    "host_name",
    "host_phone",
    "visa_type",
    "visa_number",
    "visa_valid_until",
    "entry_date",
    "port_of_entry",
    "arrival_at",
    "expected_departure",
    "stay_reason",
    "school_or_employer",
)


def _display(field, value) -> str:
    """Return ``value`` as a reviewer reads it: a choice's label, a moment in local time in
    the page's language (never ``2026-11-28 15:06:41.944294+00:00``, eight hours off)."""
    if value in (None, ""):
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return date_format(value, "DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "DATE_FORMAT")
    choices = dict(field.flatchoices) if field.choices else {}
    return str(choices.get(value, value))


def registration_changes(*, registration: Registration) -> list[tuple[str, str, str]]:
    """
    Return ``(field, before, after)`` for what changed since the previous version: the
    registration's own previous history record, or, for a new address, the registration
    it follows at the same station. Two queries at most.
    """
    opts = Registration._meta
    fields = [opts.get_field(name) for name in REVIEW_FIELDS]
    versions = list(registration.history.order_by("-history_date", "-history_id")[:2])
    changes: list[tuple[str, str, str]] = []
    if len(versions) == 2:
        delta = versions[0].diff_against(versions[1], included_fields=list(REVIEW_FIELDS))
        by_name = {change.field: change for change in delta.changes}
        for field in fields:
            if field.name in by_name:
                change = by_name[field.name]
                changes.append(
                    (
                        str(field.verbose_name),
                        _display(field, change.old),
                        _display(field, change.new),
                    )
                )
        if changes:
            return changes
    previous = registration.previous
    # A stay at another station is that station's record: stations are walls for reads.
    if previous is None or previous.station_id != registration.station_id:
        return []
    for field in fields:
        before, after = field.value_from_object(previous), field.value_from_object(registration)
        if before != after:
            changes.append(
                (str(field.verbose_name), _display(field, before), _display(field, after))
            )
    return changes
