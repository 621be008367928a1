"""Selectors for the staff dashboard: registration figures per station, in fixed queries."""

import datetime

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from registration.constants import ACTIVE_STATUSES
from registration.models import Registration
from registration.selectors import (
    registrations_correction_requested,
    registrations_overdue,
    registrations_visa_expiring,
    registrations_waiting,
)


def registration_figures_by_station(
    *, station_ids: list[int], now: datetime.datetime
) -> dict[int, dict[str, int]]:
    """Return per station: waiting, overdue, corrections waiting, visas expiring soon."""
    today = timezone.localdate(now)
    rows = (
        Registration.objects.filter(station_id__in=station_ids, status__in=ACTIVE_STATUSES)
        .values("station_id")
        .annotate(
            # The admin's queues of the same names: one definition each.
            waiting=Count("pk", filter=registrations_waiting()),
            overdue=Count("pk", filter=registrations_overdue(now=now)),
            corrections=Count("pk", filter=registrations_correction_requested()),
            expiring=Count("pk", filter=registrations_visa_expiring(today=today)),
        )
        .order_by()
    )
    return {row.pop("station_id"): row for row in rows}


def registrations_waiting_oldest(*, station_ids: list[int], limit: int = 15) -> QuerySet:
    """Return the registrations waiting for review, nearest (or past) deadline first."""
    return (
        Registration.objects.filter(registrations_waiting(), station_id__in=station_ids)
        .select_related("resident", "station")
        .prefetch_related("station__texts")
        .order_by("deadline_at", "pk")[:limit]
    )


def registrations_submitted_by_month(
    *, station_ids: list[int], since: datetime.datetime
) -> dict[int, dict[datetime.date, int]]:
    """Return, per station, how many registrations were submitted per month since ``since``."""
    rows = (
        Registration.objects.filter(station_id__in=station_ids, submitted_at__gte=since)
        .annotate(month=TruncMonth("submitted_at"))
        .values("station_id", "month")
        .annotate(count=Count("pk"))
        .order_by()
    )
    figures: dict[int, dict[datetime.date, int]] = {}
    for row in rows:
        figures.setdefault(row["station_id"], {})[_as_date(row["month"])] = row["count"]
    return figures


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value
