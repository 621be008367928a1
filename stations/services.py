"""Writes of the stations app."""

import datetime
import logging
import uuid

from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from stations.constants import GROUP_MANAGER, GROUP_OFFICER, MembershipRole
from stations.models import Station, StationMembership, StationText, StationVisitDay
from stations.selectors import (
    STATIONS_GENERATION_KEY,
    station_visits_pending,
    stations_generation_forget,
    visit_cache_key,
)
from stations.visits import visit_buffer_add, visit_buffer_hand_over

logger = logging.getLogger(__name__)

ROLE_GROUPS = {MembershipRole.OFFICER: GROUP_OFFICER, MembershipRole.MANAGER: GROUP_MANAGER}


@transaction.atomic
def station_create_or_update(*, code: str, texts: dict[str, dict], **fields) -> Station:
    """Create the station ``code`` or update its fields; ``texts`` maps language → texts."""
    station, _created = Station.objects.update_or_create(code=code, defaults=fields)
    for language, values in texts.items():
        StationText.objects.update_or_create(station=station, language=language, defaults=values)
    return station


@transaction.atomic
def station_membership_set(*, user, station: Station, role: str) -> StationMembership:
    """Make ``user`` a member of ``station`` in ``role``, with staff status and its group."""
    membership, _created = StationMembership.objects.update_or_create(
        user=user, station=station, defaults={"role": role}
    )
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    group = Group.objects.filter(name=ROLE_GROUPS[MembershipRole(role)]).first()
    if group is not None:
        user.groups.add(group)
    return membership


@transaction.atomic
def station_membership_remove(*, membership: StationMembership) -> None:
    """End ``user``'s work at a station (the user keeps the account and other memberships)."""
    membership.delete()


def stations_cache_bump() -> None:
    """Invalidate every cached station page (after a station or its texts changed)."""
    try:
        cache.set(STATIONS_GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.warning("Could not invalidate the station page cache", exc_info=True)
    # This process sees the change at once, the others within STATIONS_GENERATION_LOCAL_SECONDS.
    stations_generation_forget()


# ------------------------------------------------------------------------------
# Visits: counted in the cache on the hot path, written to the database in batches
# ------------------------------------------------------------------------------
VISIT_KEY_TIMEOUT = 3 * 24 * 60 * 60  # long enough for a missed flush or two


def station_visit_record(*, station_id: int, day: datetime.date | None = None) -> None:
    """
    Count one view of a station page: no database write, no personal data, no cookie.

    Counted in this process's memory and handed to the cache counters every few seconds
    (stations.visits), so a page view costs no cache round trip either.
    """
    try:
        visit_buffer_add(station_id, day or timezone.localdate())
    except Exception:  # a counter must never break a resident's page
        logger.warning("Could not count a station page view", exc_info=True)


def station_visits_flush(*, days: int = 2) -> int:
    """
    Move the page views counted in the cache into ``StationVisitDay``; return how many.

    Safe to run twice or concurrently: each run takes from a counter exactly the amount it
    writes (``decr``), so views counted meanwhile stay for the next run.
    """
    visit_buffer_hand_over()  # this process's own views first (none in a Celery worker)
    today = timezone.localdate()
    station_ids = list(Station.objects.values_list("pk", flat=True))
    taken: list[tuple[int, datetime.date, int]] = []
    for offset in range(days):
        day = today - datetime.timedelta(days=offset)
        for station_id, count in station_visits_pending(
            station_ids, day, include_buffer=False
        ).items():
            try:
                cache.decr(visit_cache_key(station_id, day), count)
            except ValueError:  # expired meanwhile: nothing to take
                continue
            except Exception:  # the cache is down: the views wait there for the next run
                logger.warning("Could not take station page views from the cache", exc_info=True)
                break
            taken.append((station_id, day, count))
    try:
        _visit_days_add(taken)
    except Exception:
        for station_id, day, count in taken:  # give the views back for the next run
            station_visit_record_many(station_id=station_id, day=day, count=count)
        raise
    return sum(count for _station, _day, count in taken)


def station_visit_record_many(*, station_id: int, day: datetime.date, count: int) -> None:
    """Add ``count`` views to the cache counter (a process's buffered views, or views given back)."""
    key = visit_cache_key(station_id, day)
    if not cache.add(key, count, timeout=VISIT_KEY_TIMEOUT):
        cache.incr(key, count)


@transaction.atomic
def _visit_days_add(taken: list[tuple[int, datetime.date, int]]) -> None:
    for station_id, day, count in taken:
        row, created = StationVisitDay.objects.select_for_update().get_or_create(
            station_id=station_id, day=day, defaults={"count": count}
        )
        if not created:
            StationVisitDay.objects.filter(pk=row.pk).update(count=F("count") + count)
