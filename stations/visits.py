"""
Station page views, counted in each web process's memory and handed to the cache in batches.

The hot path (``visit_buffer_add``) touches neither the database nor the cache: it adds one
to a dict under a lock. Every ``STATION_VISIT_BUFFER_SECONDS`` (default 5) or
``STATION_VISIT_BUFFER_VIEWS`` views (default 1,000), whichever comes first, the view that
notices it hands the whole buffer to the cache counters (``stations:visits:<day>:<id>``),
one ``incr`` per station and day; ``stations.services.station_visits_flush`` (Celery beat)
moves the cache counters to the database as before. A process that stops gracefully hands
its buffer over on exit; a crash loses at most a few seconds of views of one process, which
an aggregate daily counter can afford. No personal data is counted, no cookie is set.
"""

import atexit
import datetime
import logging
import threading
import time
from collections import Counter

from django.conf import settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_counts: Counter = Counter()  # (station id, day) → views not yet in the cache
_state = {"views": 0, "since": time.monotonic()}


def _limits() -> tuple[float, int]:
    return (
        float(settings.STATION_VISIT_BUFFER_SECONDS),
        int(settings.STATION_VISIT_BUFFER_VIEWS),
    )


def visit_buffer_add(station_id: int, day: datetime.date) -> None:
    """Count one view of ``station_id`` on ``day`` in this process; hand over when due."""
    seconds, views = _limits()
    now = time.monotonic()
    with _lock:
        _counts[(station_id, day)] += 1
        _state["views"] += 1
        due = _state["views"] >= views or now - _state["since"] >= seconds
    if due:
        visit_buffer_hand_over()


def visit_buffer_take() -> dict[tuple[int, datetime.date], int]:
    """Empty this process's buffer and return what it held."""
    with _lock:
        taken = dict(_counts)
        _counts.clear()
        _state["views"] = 0
        _state["since"] = time.monotonic()
    return taken


def visit_buffer_peek(station_ids, day: datetime.date) -> dict[int, int]:
    """Return the views of ``station_ids`` on ``day`` still in this process's buffer."""
    wanted = set(station_ids)
    with _lock:
        return {pk: n for (pk, d), n in _counts.items() if d == day and pk in wanted and n}


def visit_buffer_hand_over() -> int:
    """Move this process's buffered views to the cache counters; return how many moved."""
    # Cycle: stations.services imports this module.
    from stations.services import station_visit_record_many

    taken = visit_buffer_take()
    moved = 0
    for (station_id, day), count in taken.items():
        try:
            station_visit_record_many(station_id=station_id, day=day, count=count)
            moved += count
        except Exception:  # the cache is down: keep the views for the next hand-over
            logger.warning("Could not hand station page views to the cache", exc_info=True)
            with _lock:
                _counts[(station_id, day)] += count
    return moved


def _hand_over_at_exit() -> None:
    try:
        visit_buffer_hand_over()
    except Exception:  # never make a shutdown fail
        logger.warning("Could not hand station page views over at exit", exc_info=True)


atexit.register(_hand_over_at_exit)
