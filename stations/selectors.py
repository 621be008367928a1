"""Reads of the stations app. ``stations_for_user`` is the one rule of who sees what."""

import datetime
import re

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone, translation

from core.db import retry_on_lost_connection
from stations.constants import NEAREST_STATIONS_SHOWN, STATION_CODE_REGEX, MembershipRole
from stations.models import Station, StationMembership, StationVisitDay
from stations.visits import visits_pending, visits_pending_by_purpose

# City administrators (and superusers) see every station.
SEE_ALL_STATIONS_PERMISSION = "stations.view_all_stations"


def user_sees_all_stations(user) -> bool:
    """Return whether ``user`` may see every station (superuser or city administrator)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.has_perm(SEE_ALL_STATIONS_PERMISSION)


def stations_for_user(user, *, role: str | None = None) -> QuerySet[Station]:
    """
    Return the stations ``user`` may see (or, with ``role="manager"``, manage).

    Every admin screen of every app scopes its objects with this one selector.
    """
    if user_sees_all_stations(user):
        return Station.objects.all()
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return Station.objects.none()
    memberships = {"memberships__user": user}
    if role is not None:
        memberships["memberships__role"] = role
    return Station.objects.filter(**memberships).distinct()


def station_ids_for_user(user, *, role: str | None = None) -> list[int]:
    """Return the primary keys of ``stations_for_user`` as a list (for ``__in`` filters)."""
    return list(stations_for_user(user, role=role).values_list("pk", flat=True))


def station_staff(*, station_ids, role: str | None = None) -> QuerySet[StationMembership]:
    """
    Return who staffs the stations ``station_ids`` (with ``role``, if given): the
    memberships of active users, each with its user, by station then username.

    The one rule of "the staff of a station": who may be assigned a case and who is told
    about late registrations or overdue cases.
    """
    memberships = StationMembership.objects.filter(station_id__in=station_ids, user__is_active=True)
    if role is not None:
        memberships = memberships.filter(role=role)
    return memberships.select_related("user").order_by("station_id", "user__username")


def user_is_member(user, station: Station, *, role: str | None = None) -> bool:
    """Return whether ``user`` may see (or, with a role, act in that role at) ``station``."""
    if user_sees_all_stations(user):
        return True
    return stations_for_user(user, role=role).filter(pk=station.pk).exists()


def user_manages(user, station: Station) -> bool:
    """Return whether ``user`` is a manager of ``station`` (or sees all stations)."""
    return user_is_member(user, station, role=MembershipRole.MANAGER)


def active_stations() -> QuerySet[Station]:
    """Return the active stations with their texts, for the home page."""
    return Station.objects.active().with_texts()


@retry_on_lost_connection(atomic=False)
def station_get_by_code(code: str) -> Station | None:
    """Return the station with this code, matched case-insensitively, or ``None``."""
    return Station.objects.with_texts().filter(code__iexact=code.strip()).first()


# ------------------------------------------------------------------------------
# The public station page (cached whole by stations.pages)
# ------------------------------------------------------------------------------
def _texts_data(station: Station) -> dict[str, dict[str, str]]:
    return {
        t.language: {
            "name": t.name,
            "address": t.address,
            "opening_hours": t.opening_hours,
            "area_served": t.area_served,
        }
        for t in station.texts.all()
    }


def nearest_active_stations(station: Station, *, limit: int = NEAREST_STATIONS_SHOWN):
    """Return active stations to suggest instead of ``station``: same district first."""
    others = list(Station.objects.active().with_texts().exclude(pk=station.pk))
    others.sort(key=lambda s: (s.district != station.district, s.code))
    return others[:limit]


def station_page_data(code: str) -> dict | None:
    """
    Return what the station page shows, as plain data, or ``None`` for an unknown code.

    Two queries (station, texts); four for a closed station, which also lists the nearest
    open ones. A code that cannot exist costs none.
    """
    code = code.strip().lower()
    if not re.match(STATION_CODE_REGEX, code):
        return None
    station = station_get_by_code(code)
    if station is None:
        return None
    return {
        "id": station.pk,
        "code": station.code,
        "is_active": station.is_active,
        "district": station.district,
        "phone": station.phone,
        "email": station.email,
        "wechat_id": station.wechat_id,
        "languages_spoken": station.languages_spoken,
        "texts": _texts_data(station),
        "nearest": []
        if station.is_active
        else [
            {"code": s.code, "district": s.district, "texts": _texts_data(s)}
            for s in nearest_active_stations(station)
        ],
    }


def text_for_language(texts: dict[str, dict], language: str | None = None) -> dict:
    """Pick the texts in ``language`` from ``{language: texts}``, else the best fallback."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    for candidate in (language, language.split("-")[0], settings.LANGUAGE_CODE):
        if candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()), {})


# ------------------------------------------------------------------------------
# Visits (counted by stations.visits)
# ------------------------------------------------------------------------------
def station_visit_counts(station_ids, *, day: datetime.date | None = None) -> dict[int, int]:
    """Return ``{station id: visits on day}`` (default today), stored plus still in the cache."""
    day = day or timezone.localdate()
    codes = dict(Station.objects.filter(pk__in=station_ids).values_list("code", "pk"))
    counts = dict(
        StationVisitDay.objects.filter(station_id__in=codes.values(), day=day)
        .values("station_id")
        .annotate(total=Sum("count"))
        .order_by()
        .values_list("station_id", "total")
    )
    for code, pending in visits_pending(codes, day).items():
        counts[codes[code]] = counts.get(codes[code], 0) + pending
    return counts


def station_visits_recent(station: Station, *, days: int = 30) -> list[tuple[datetime.date, int]]:
    """Return ``(day, visits)`` for the last ``days`` days, newest first, including today."""
    by_purpose = station_visits_recent_by_purpose(station, days=days)
    return [(day, sum(counts.values())) for day, counts in by_purpose.items()]


def station_visits_recent_by_purpose(
    station: Station, *, days: int = 30
) -> dict[datetime.date, dict[str, int]]:
    """Return ``{day: {purpose: visits}}`` for the last ``days`` days, newest first."""
    today = timezone.localdate()
    recent = {today - datetime.timedelta(days=n): {} for n in range(days)}
    rows = StationVisitDay.objects.filter(station=station, day__gte=min(recent))
    for day, purpose, count in rows.values_list("day", "purpose", "count"):
        recent[day][purpose] = recent[day].get(purpose, 0) + count
    pending = visits_pending_by_purpose([station.code], today)
    for (_code, purpose), count in pending.items():
        recent[today][purpose] = recent[today].get(purpose, 0) + count
    return recent


def station_visits_by_month_and_purpose(
    *, station_ids: list[int], since: datetime.date
) -> dict[int, dict[datetime.date, dict[str, int]]]:
    """Return ``{station id: {month: {purpose: visits}}}`` since ``since`` (months' first days)."""
    rows = (
        StationVisitDay.objects.filter(station_id__in=station_ids, day__gte=since)
        .annotate(month=TruncMonth("day"))
        .values("station_id", "month", "purpose")
        .annotate(count=Sum("count"))
        .order_by()
    )
    figures: dict[int, dict[datetime.date, dict[str, int]]] = {}
    for row in rows:
        months = figures.setdefault(row["station_id"], {})
        months.setdefault(row["month"], {})[row["purpose"]] = row["count"]
    return figures
