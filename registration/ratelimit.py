"""Cache-backed rate limits for public forms (Redis in production, shared by all workers)."""

import hashlib

from django.core.cache import cache


def client_ip(request) -> str:
    """
    Return the client's address. Behind trusted proxies the project's middleware has
    already put the real client into ``REMOTE_ADDR`` (one rule for lockout, limits, logs).
    """
    return request.META.get("REMOTE_ADDR", "") or ""


def rate_limit_hit(*, scope: str, key: str, limit: int, window: int) -> bool:
    """
    Count one attempt for ``key`` in ``scope``; return whether it goes over ``limit`` per
    ``window`` seconds. Keys are hashed: no reference or address is kept in the cache.
    """
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()
    cache_key = f"registration:rl:{digest}"
    if cache.add(cache_key, 1, timeout=window):
        return limit < 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        count = 1
    return count > limit
