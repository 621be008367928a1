"""Reads of the stations app. ``stations_for_user`` is the one rule of who sees what."""

import datetime
import logging
import re
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone, translation

from core.caching import cache_add, cache_get, cache_set
from core.db import retry_on_lost_connection
from stations.constants import NEAREST_STATIONS_SHOWN, STATION_CODE_REGEX, MembershipRole
from stations.models import Station, StationMembership, StationVisitDay
from stations.visits import visit_buffer_peek

logger = logging.getLogger(__name__)

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
# The public station page: plain data, cached
# ------------------------------------------------------------------------------
STATION_PAGE_CACHE_TIMEOUT = 60 * 60
STATION_MISSING_CACHE_TIMEOUT = 60
# Bumped on every change of a station or its texts (see stations.signals): every cached
# station page (including the "nearest stations" of inactive ones) is rebuilt after it.
STATIONS_GENERATION_KEY = "stations:generation"


# Each process remembers the generation for settings.STATIONS_GENERATION_LOCAL_SECONDS, so
# a warm station page or QR code costs no cache round trip at all; a change made through
# another process shows within that time, one made through this process at once.
_generation_memo: tuple[str | None, float] = (None, 0.0)


def stations_generation() -> str:
    """Return the current generation token of the station data in the cache."""
    global _generation_memo
    generation, until = _generation_memo
    now = time.monotonic()
    if generation is not None and now < until:
        return generation
    generation = cache_get(STATIONS_GENERATION_KEY)
    if generation is None:
        generation = uuid.uuid4().hex
        cache_add(STATIONS_GENERATION_KEY, generation, timeout=None)
        generation = cache_get(STATIONS_GENERATION_KEY, generation)
    seconds = settings.STATIONS_GENERATION_LOCAL_SECONDS
    _generation_memo = (generation, now + seconds) if seconds > 0 else (None, 0.0)
    return generation


def stations_generation_forget() -> None:
    """Make this process read the generation from the cache again on its next use."""
    global _generation_memo
    _generation_memo = (None, 0.0)


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


def station_page_data(code: str, *, generation: str | None = None) -> dict | None:
    """
    Return what the station page shows, as plain data, or ``None`` for an unknown code.

    Cached: a warm page costs no query; a cold one costs two (station, texts) — four for
    an inactive station, which also lists the nearest active ones. ``generation`` is
    ``stations_generation()`` when the caller already read it.
    """
    code = code.strip().lower()
    if not re.match(STATION_CODE_REGEX, code):
        return None  # cannot exist: no query, nothing cached
    key = f"stations:page:{generation or stations_generation()}:{code}"
    data = cache_get(key)
    if data is not None:
        return data or None  # {} marks an unknown code
    station = station_get_by_code(code)
    if station is None:
        cache_set(key, {}, STATION_MISSING_CACHE_TIMEOUT)
        return None
    data = {
        "id": station.pk,
        "code": station.code,
        "is_active": station.is_active,
        "district": station.district,
        "phone": station.phone,
        "email": station.email,
        "wechat_id": station.wechat_id,
        "languages_spoken": station.languages_spoken,
        "texts": _texts_data(station),
        "nearest": [],
    }
    if not station.is_active:
        data["nearest"] = [
            {"code": s.code, "district": s.district, "texts": _texts_data(s)}
            for s in nearest_active_stations(station)
        ]
    cache_set(key, data, STATION_PAGE_CACHE_TIMEOUT)
    return data


def text_for_language(texts: dict[str, dict], language: str | None = None) -> dict:
    """Pick the texts in ``language`` from ``{language: texts}``, else the best fallback."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    for candidate in (language, language.split("-")[0], settings.LANGUAGE_CODE):
        if candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()), {})


# ------------------------------------------------------------------------------
# Visits
# ------------------------------------------------------------------------------
def visit_cache_key(station_id: int, day: datetime.date) -> str:
    """Return the cache key counting ``station_id``'s page views on ``day``."""
    return f"stations:visits:{day.isoformat()}:{station_id}"


def station_visits_pending(
    station_ids, day: datetime.date, *, include_buffer: bool = True
) -> dict[int, int]:
    """Return the page views counted (cache, this process) and not yet written to the database."""
    station_ids = list(station_ids)
    keys = {visit_cache_key(pk, day): pk for pk in station_ids}
    try:
        found = cache.get_many(list(keys))
    except Exception:  # a cache outage must not break the admin: stored counts only
        logger.warning("Cache unavailable (station page views)", exc_info=True)
        found = {}
    pending = {keys[key]: int(value) for key, value in found.items() if value}
    if not include_buffer:
        return pending
    # Views still in this process's buffer (stations.visits) count too.
    for pk, count in visit_buffer_peek(station_ids, day).items():
        pending[pk] = pending.get(pk, 0) + count
    return pending


def station_visit_counts(station_ids, *, day: datetime.date | None = None) -> dict[int, int]:
    """Return ``{station id: visits on day}`` (default today), stored plus still in the cache."""
    day = day or timezone.localdate()
    station_ids = list(station_ids)
    counts = dict(
        StationVisitDay.objects.filter(station_id__in=station_ids, day=day).values_list(
            "station_id", "count"
        )
    )
    for pk, pending in station_visits_pending(station_ids, day).items():
        counts[pk] = counts.get(pk, 0) + pending
    return counts


def station_visits_recent(station: Station, *, days: int = 30) -> list[tuple[datetime.date, int]]:
    """Return ``(day, visits)`` for the last ``days`` days, newest first, including today."""
    today = timezone.localdate()
    since = today - datetime.timedelta(days=days - 1)
    stored = dict(
        StationVisitDay.objects.filter(station=station, day__gte=since).values_list("day", "count")
    )
    pending = station_visits_pending([station.pk], today).get(station.pk, 0)
    stored[today] = stored.get(today, 0) + pending
    return [
        (today - datetime.timedelta(days=n), stored.get(today - datetime.timedelta(days=n), 0))
        for n in range(days)
    ]


def station_visits_by_month(
    *, station_ids: list[int], since: datetime.date
) -> dict[int, dict[datetime.date, int]]:
    """Return, per station, the page visits per month (first day of the month) since ``since``."""
    rows = (
        StationVisitDay.objects.filter(station_id__in=station_ids, day__gte=since)
        .annotate(month=TruncMonth("day"))
        .values("station_id", "month")
        .annotate(count=Sum("count"))
        .order_by()
    )
    figures: dict[int, dict[datetime.date, int]] = {}
    for row in rows:
        figures.setdefault(row["station_id"], {})[row["month"]] = row["count"]
    return figures
