"""
The one rate limiter of Linli: fixed windows counted in the cache (Redis in production,
shared by every worker and node).

Limits are named in ``settings.RATE_LIMITS``, each ``{"limit": n, "window": seconds}``; a
caller counts against a name for a key (a client address, a reference with an address, a
form attempt). A count may weigh more than one (``cost``: the bytes of a photo). Keys are
hashed, so no address or reference number is kept in the cache.

**When the cache is down, every limit lets the request through** (it fails open) and a
warning is logged once per ``OUTAGE_WARNING_SECONDS`` per process, with the number of
requests let through since the last one. A resident's registration or call for help
matters more than a limit against abuse: the form is stored, never answered with a 500.
What stays bounded without the cache: each request's own size (nginx, the form's fields,
``REGISTRATION_IMAGE_MAX_*``), the staff login lockout (django-axes keeps its counts in
the database) and a form attempt's photos (one per kind).
"""

import hashlib
import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

OUTAGE_WARNING_SECONDS = 60.0

_outage_lock = threading.Lock()
_outage = {"warned_at": None, "let_through": 0}


def _limit(name: str) -> tuple[int, int]:
    # Outside the cache's try: an unknown name is a programming error, not an outage.
    config = settings.RATE_LIMITS[name]
    return int(config["limit"]), int(config["window"])


def _cache_key(name: str, key: str) -> str:
    return "ratelimit:" + hashlib.sha256(f"{name}\0{key}".encode()).hexdigest()


def _cache_failed(name: str) -> None:
    """Log the outage once per burst: the first failure, then at most once a minute."""
    now = time.monotonic()
    with _outage_lock:
        _outage["let_through"] += 1
        warned_at = _outage["warned_at"]
        if warned_at is not None and now - warned_at < OUTAGE_WARNING_SECONDS:
            return
        count, _outage["let_through"] = _outage["let_through"], 0
        _outage["warned_at"] = now
    logger.warning(
        "Rate limits are off: the cache does not answer (%s requests let through, last: %s).",
        count,
        name,
        exc_info=True,
    )


def _counts_over(counts: list[tuple[str, str, int]]) -> list[bool]:
    """
    Count each ``(name, key, cost)``; return, for each, whether its window's total is now
    over the limit. One round trip to Redis for them all (``count_many`` of
    core.caching.RedisCache); other caches count one by one. All ``False`` when the cache
    does not answer (one let-through per count, as if counted one by one).
    """
    windows = [_limit(name) for name, _key, _cost in counts]
    keyed = [
        (_cache_key(name, key), cost, window)
        for (name, key, cost), (_most, window) in zip(counts, windows, strict=True)
    ]
    try:
        count_many = getattr(cache, "count_many", None)
        totals = count_many(keyed) if count_many else [_count(*each) for each in keyed]
    except Exception:
        for name, _key, _cost in counts:
            _cache_failed(name)
        return [False] * len(counts)
    return [total > limit for total, (limit, _window) in zip(totals, windows, strict=True)]


def _count(cache_key: str, cost: int, window: int) -> int:
    """Add ``cost`` to a counter of a fixed window through the cache's generic calls."""
    if cache.add(cache_key, cost, timeout=window):
        return cost
    try:
        return cache.incr(cache_key, cost)
    except ValueError:  # expired between add and incr: a new window
        cache.set(cache_key, cost, timeout=window)
        return cost


def rate_limit_hit(name: str, *, key: str, cost: int = 1) -> bool:
    """
    Count ``cost`` for ``key`` under the limit ``name``; return whether the window's total
    is now over the limit (the caller then refuses the request). Return ``False`` when the
    cache does not answer.
    """
    return _counts_over([(name, key, cost)])[0]


def rate_limit_reached(name: str, *, key: str) -> bool:
    """
    Return whether ``key`` has used up the limit ``name`` in the current window, without
    counting (for limits counted only on success). ``False`` when the cache does not answer.
    """
    limit, _window = _limit(name)
    try:
        total = cache.get(_cache_key(name, key)) or 0
    except Exception:
        _cache_failed(name)
        return False
    return int(total) >= limit


def photo_quota_exceeded(*, address: str, size: int, attempt: str | None = None) -> bool:
    """
    Count one uploaded photo of ``size`` bytes for the client ``address`` (and the form
    ``attempt``, when there is one); return whether any photo quota is now exceeded. Call
    it before the photo is opened: a refused photo costs no decoding.
    """
    counts = [("photos-address", address, 1), ("photo-bytes-address", address, size)]
    if attempt is not None:
        counts += [("photos-attempt", attempt, 1), ("photo-bytes-attempt", attempt, size)]
    # Every quota is counted, also after one is exceeded: no short cut through the list.
    return any(_counts_over(counts))
