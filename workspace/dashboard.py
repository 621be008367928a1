"""
The staff dashboard: the day's work of every station the user may see, on one page.

It lives beside the admin site (workspace.sites), so that it may gather figures from every app's
selectors without any domain app importing another. It costs the same few queries however
many registrations, cases and stations there are.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from inquiries.constants import Category
from inquiries.dashboard import (
    cases_open_by_station_and_category,
    cases_overdue_by_station,
    latest_round_response_by_station,
)
from inquiries.selectors import inquiries_figures_for_user
from notifications.selectors import messages_failed_count, staff_notifications
from registration.dashboard import (
    registration_figures_by_station,
    registrations_submitted_by_month,
    registrations_waiting_oldest,
)
from stations.constants import QrTarget
from stations.selectors import station_visits_by_month_and_purpose, stations_for_user

MONTHS_SHOWN = 12
CHART_WIDTH, CHART_HEIGHT, CHART_BASE = 360, 120, 100


@dataclass
class MonthBar:
    label: str
    visits: int
    submissions: int
    # The QR-code forms' share of the visits, e.g. "registration form 30 · help form 4".
    visits_split: str = ""
    x: int = 0
    visits_height: int = 0
    submissions_height: int = 0
    visits_y: int = 0
    submissions_y: int = 0


@dataclass
class StationFigures:
    station: object
    waiting: int = 0
    overdue: int = 0
    corrections: int = 0
    expiring: int = 0
    cases_by_category: list[tuple[str, int]] = field(default_factory=list)
    cases_open: int = 0
    cases_overdue: int = 0
    check_in: dict | None = None
    months: list[MonthBar] = field(default_factory=list)


def _month_starts(today: datetime.date, count: int) -> list[datetime.date]:
    first = today.replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def _visits_split(by_purpose: dict[str, int]) -> str:
    """Return the forms' visits, "registration form 30 · help form 4" (empty if none)."""
    return " · ".join(
        f"{target.label} {by_purpose[target]}"
        for target in (QrTarget.REGISTER, QrTarget.HELP)
        if by_purpose.get(target)
    )


def _chart(months: list[datetime.date], visits: dict, submissions: dict) -> list[MonthBar]:
    bars = [
        MonthBar(
            label=month.strftime("%m"),
            visits=sum(visits.get(month, {}).values()),
            submissions=submissions.get(month, 0),
            visits_split=_visits_split(visits.get(month, {})),
        )
        for month in months
    ]
    peak = max([1] + [max(bar.visits, bar.submissions) for bar in bars])
    step = CHART_WIDTH // len(bars)
    for index, bar in enumerate(bars):
        bar.x = index * step
        bar.visits_height = round(CHART_BASE * bar.visits / peak)
        bar.submissions_height = round(CHART_BASE * bar.submissions / peak)
        bar.visits_y = CHART_BASE - bar.visits_height
        bar.submissions_y = CHART_BASE - bar.submissions_height
    return bars


def dashboard_figures(user, *, now: datetime.datetime | None = None) -> dict:
    """Return the dashboard of ``user``: figures per station and the oldest waiting queue."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    stations = list(stations_for_user(user).prefetch_related("texts"))
    station_ids = [station.pk for station in stations]
    if not station_ids:
        return {
            "stations": [],
            "waiting": [],
            "now": now,
            "notifications": staff_notifications(user),
        }
    months = _month_starts(today, MONTHS_SHOWN)
    since_day = months[0]
    since = timezone.make_aware(datetime.datetime.combine(since_day, datetime.time.min))
    registrations = registration_figures_by_station(station_ids=station_ids, now=now)
    cases = cases_open_by_station_and_category(station_ids=station_ids)
    overdue_cases = cases_overdue_by_station(station_ids=station_ids, now=now)
    rounds = latest_round_response_by_station(station_ids=station_ids)
    visits = station_visits_by_month_and_purpose(station_ids=station_ids, since=since_day)
    submissions = registrations_submitted_by_month(station_ids=station_ids, since=since)
    labels = dict(Category.choices)
    rows = []
    for station in stations:
        figures = StationFigures(station=station, **registrations.get(station.pk, {}))
        by_category = cases.get(station.pk, {})
        figures.cases_by_category = [
            (labels.get(code, code), count) for code, count in sorted(by_category.items())
        ]
        figures.cases_open = sum(by_category.values())
        figures.cases_overdue = overdue_cases.get(station.pk, 0)
        figures.check_in = rounds.get(station.pk)
        figures.months = _chart(months, visits.get(station.pk, {}), submissions.get(station.pk, {}))
        rows.append(figures)
    waiting = list(registrations_waiting_oldest(station_ids=station_ids))
    return {
        "stations": rows,
        "waiting": waiting,
        "cases": inquiries_figures_for_user(user),
        "messages_failed": messages_failed_count(user),
        "notifications": staff_notifications(user),
        "now": now,
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT, "base": CHART_BASE},
    }
