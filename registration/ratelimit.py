"""Cache-backed rate limits for public forms (Redis in production, shared by all workers)."""

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    """
    Return the client's address, trusting only ``settings.TRUSTED_PROXY_COUNT`` proxies
    (the same rule as the admin's lockout; apps do not import ``config``).
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if not hops:
        return remote
    candidate = hops[-count] if len(hops) >= count else hops[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


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
