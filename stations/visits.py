"""
Station page visits, counted with no database write and no network round trip per view.

1. Count. Every ``GET /s/<code>/`` answered 200 (or 410, closed), kept page or rendered,
   adds one to this web process's tally, a counter in memory (``visit_count``, called by
   ``stations.middleware``), under the purpose ``station``; every ``GET`` of the
   registration or help form's first page answered 200 adds one under ``register`` or
   ``help`` (``visit_count_request``, called by those views; staff are not counted, nor
   POSTs). Nothing about the visitor is counted, no cookie is set.
2. Hand over. Every ``STATION_VISITS_HAND_OVER_SECONDS`` (5) a thread of the process adds
   the tally to the
   shared cache counters ``stations:visits:<day>:<code>[:<purpose>]`` — one ``incr`` per
   station, day and purpose (``visits_hand_over``) — and so does the process when it exits. A counter lives
   three days. (Tests switch the thread off and hand over when they choose.)
3. Flush. The beat task ``stations.station_visits_flush`` (every 5 minutes) runs
   ``station_visits_flush``: for today and yesterday it takes from each counter what it
   read (``decr``, so views handed over meanwhile stay for the next run) and adds that to
   ``StationVisitDay`` in one transaction; if that write fails the views go back.
4. Read. Staff see the stored rows plus the counters (``visits_pending``): a few seconds
   behind.

Why a tally and not one ``incr`` per view: a round trip to Redis costs as much as the rest
of a kept station page (bench figure 1). What can be lost: the views of a hand-over that
meets the cache down (a warning says how many) and the last seconds of a process that is
killed outright. A station page is never slowed or broken by counting.
"""

import atexit
import datetime
import logging
import os
import threading
import time
from collections import Counter

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.caching import cache_get_many
from stations.constants import QrTarget
from stations.models import Station, StationVisitDay

logger = logging.getLogger(__name__)

VISIT_KEY_TIMEOUT = 3 * 24 * 60 * 60  # long enough for a missed flush or two

_tally: Counter = Counter()  # (code, day, purpose) → views of this process not yet handed over
_tally_lock = threading.Lock()  # held for a dict update only: a view never waits on I/O
_hand_over_lock = threading.Lock()  # one hand-over at a time, so each one finds all before it
_thread_pid = 0  # the process whose hand-over thread runs (a forked worker starts its own)


def visit_cache_key(code: str, day: datetime.date, purpose: str = QrTarget.STATION) -> str:
    """Return the cache key counting the views of station ``code``'s ``purpose`` on ``day``."""
    # The station page keeps the key it had before purposes, so no counter is orphaned.
    suffix = "" if purpose == QrTarget.STATION else f":{purpose}"
    return f"stations:visits:{day.isoformat()}:{code}{suffix}"


def visit_count(
    code: str, *, purpose: str = QrTarget.STATION, day: datetime.date | None = None
) -> None:
    """Count one view of station ``code``'s ``purpose`` (today unless ``day``) in this process."""
    with _tally_lock:
        _tally[(code, day or timezone.localdate(), QrTarget(purpose).value)] += 1
    if _thread_pid != os.getpid() and settings.STATION_VISITS_HAND_OVER_SECONDS:
        _hand_over_thread_start()


def visits_hand_over() -> int:
    """Add this process's tally to the cache counters; return how many views were handed."""
    with _hand_over_lock:
        with _tally_lock:
            taken = dict(_tally)
            _tally.clear()
        handed = 0
        for (code, day, purpose), count in taken.items():
            try:
                _counter_add(visit_cache_key(code, day, purpose), count)
                handed += count
            except Exception:
                logger.warning(
                    "Cache unavailable: %s views of station %s lost", count, code, exc_info=True
                )
        return handed


def _counter_add(key: str, count: int) -> None:
    try:
        cache.incr(key, count)
    except ValueError:  # the day's first views
        if not cache.add(key, count, timeout=VISIT_KEY_TIMEOUT):
            cache.incr(key, count)  # another process added it meanwhile


def _hand_over_thread_start() -> None:
    global _thread_pid
    with _tally_lock:
        if _thread_pid == os.getpid():
            return
        _thread_pid = os.getpid()
    threading.Thread(target=_hand_over_forever, name="station-visits", daemon=True).start()


def _hand_over_forever() -> None:
    global _thread_pid
    while seconds := settings.STATION_VISITS_HAND_OVER_SECONDS:
        time.sleep(seconds)
        if settings.STATION_VISITS_HAND_OVER_SECONDS:  # not switched off meanwhile
            visits_hand_over()
    _thread_pid = 0  # switched off: a later count starts a new thread if switched on again


atexit.register(visits_hand_over)


def visit_count_request(request, code: str, *, purpose: str) -> None:
    """Count a visitor's ``GET`` of station ``code``'s ``purpose`` page; never staff's."""
    if request.method == "GET" and not request.user.is_staff:
        visit_count(code, purpose=purpose)


def visits_pending_by_purpose(codes, day: datetime.date) -> dict[tuple[str, str], int]:
    """Return ``{(code, purpose): views}`` on ``day`` handed over and not yet in the database."""
    keys = {
        visit_cache_key(code, day, purpose): (code, purpose)
        for code in codes
        for purpose in QrTarget.values
    }
    found = cache_get_many(list(keys)) if keys else {}
    return {keys[key]: int(value) for key, value in found.items() if value}


def visits_pending(codes, day: datetime.date) -> dict[str, int]:
    """Return ``{code: views}`` (all purposes) on ``day`` handed over and not yet stored."""
    totals: Counter = Counter()
    for (code, _purpose), count in visits_pending_by_purpose(codes, day).items():
        totals[code] += count
    return dict(totals)


def station_visits_flush(*, days: int = 2) -> int:
    """Move the views counted in the cache into ``StationVisitDay``; return how many."""
    visits_hand_over()  # this process's own tally first (a web process; a worker has none)
    today = timezone.localdate()
    station_ids = dict(Station.objects.values_list("code", "pk"))
    taken: list[tuple[str, datetime.date, str, int]] = []
    for offset in range(days):
        day = today - datetime.timedelta(days=offset)
        for (code, purpose), count in visits_pending_by_purpose(station_ids, day).items():
            try:
                cache.decr(visit_cache_key(code, day, purpose), count)
            except ValueError:  # expired meanwhile: nothing to take
                continue
            except Exception:  # the cache is down: the views wait there for the next run
                logger.warning("Cache unavailable: station page views wait", exc_info=True)
                break
            taken.append((code, day, purpose, count))
    try:
        _visit_days_add(
            [(station_ids[code], day, purpose, count) for code, day, purpose, count in taken]
        )
    except Exception:
        for code, day, purpose, count in taken:  # give the views back for the next run
            try:
                _counter_add(visit_cache_key(code, day, purpose), count)
            except Exception:
                logger.warning("Cache unavailable: station page views lost", exc_info=True)
        raise
    return sum(count for *_key, count in taken)


@transaction.atomic
def _visit_days_add(taken: list[tuple[int, datetime.date, str, int]]) -> None:
    for station_id, day, purpose, count in taken:
        row, created = StationVisitDay.objects.select_for_update().get_or_create(
            station_id=station_id, day=day, purpose=purpose, defaults={"count": count}
        )
        if not created:
            StationVisitDay.objects.filter(pk=row.pk).update(count=F("count") + count)
