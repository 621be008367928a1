"""A small fixed-window rate limit per client address, counted in the cache."""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _key(request) -> str:
    # Behind trusted proxies config.middleware.ClientIPMiddleware puts the client in REMOTE_ADDR.
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    return "inquiries:help:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def help_rate_limited(request) -> bool:
    """Return whether this client has used up its help requests for the current window."""
    limit = settings.INQUIRY_RATE_LIMIT
    try:
        return int(cache.get(_key(request)) or 0) >= limit["requests"]
    except Exception:  # a cache outage must not stop a resident asking for help
        return False


def help_rate_count(request) -> None:
    """Count one accepted help request of this client."""
    limit = settings.INQUIRY_RATE_LIMIT
    key = _key(request)
    try:
        if not cache.add(key, 1, timeout=limit["window"]):
            cache.incr(key)
    except Exception:
        logger.warning("Could not count a help request in the cache.", exc_info=True)
