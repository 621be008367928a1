"""Selectors for the staff dashboard: case and check-in figures per station, fixed queries."""

import datetime

from django.db.models import Count, Max, Q

from inquiries.constants import OPEN_STATUSES
from inquiries.models import CheckInInvitation, CheckInRound, Inquiry


def cases_open_by_station_and_category(*, station_ids: list[int]) -> dict[int, dict[str, int]]:
    """Return, per station, the number of open cases in each category."""
    rows = (
        Inquiry.objects.filter(station_id__in=station_ids, status__in=OPEN_STATUSES)
        .values("station_id", "category")
        .annotate(count=Count("pk"))
        .order_by()
    )
    figures: dict[int, dict[str, int]] = {}
    for row in rows:
        figures.setdefault(row["station_id"], {})[row["category"]] = row["count"]
    return figures


def cases_overdue_by_station(*, station_ids: list[int], now: datetime.datetime) -> dict[int, int]:
    """Return, per station, the open cases past their first-response target."""
    rows = (
        Inquiry.objects.filter(
            station_id__in=station_ids,
            status__in=OPEN_STATUSES,
            first_responded_at__isnull=True,
            first_response_due__lt=now,
        )
        .values("station_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["station_id"]: row["count"] for row in rows}


def latest_round_response_by_station(*, station_ids: list[int]) -> dict[int, dict]:
    """Return, per station, the latest sent check-in round's invited and answered counts."""
    latest = (
        CheckInRound.objects.filter(station_id__in=station_ids, sent_at__isnull=False)
        .values("station_id")
        .annotate(last_sent=Max("sent_at"))
        .order_by()
    )
    latest_q = Q()
    for row in latest:
        latest_q |= Q(round__station_id=row["station_id"], round__sent_at=row["last_sent"])
    if not latest:
        return {}
    rows = (
        CheckInInvitation.objects.filter(latest_q)
        .values("round__station_id", "round_id", "round__title")
        .annotate(invited=Count("pk"), answered=Count("answer"))
        .order_by()
    )
    return {
        row["round__station_id"]: {
            "round_id": row["round_id"],
            "title": row["round__title"],
            "invited": row["invited"],
            "answered": row["answered"],
            "rate": round(100 * row["answered"] / row["invited"]) if row["invited"] else 0,
        }
        for row in rows
    }
