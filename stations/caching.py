"""The cache as a help, never a dependency: a cache outage degrades to the database."""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def cache_get(key: str, default=None):
    """Return ``cache.get(key)``, or ``default`` when the cache does not answer."""
    try:
        return cache.get(key, default)
    except Exception:
        logger.warning("Cache unavailable (get %s)", key, exc_info=True)
        return default


def cache_set(key: str, value, timeout) -> None:
    """Store ``value`` if the cache answers; otherwise carry on without it."""
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("Cache unavailable (set %s)", key, exc_info=True)


def cache_add(key: str, value, timeout) -> bool:
    """Return ``cache.add(...)``, or ``False`` when the cache does not answer."""
    try:
        return cache.add(key, value, timeout)
    except Exception:
        logger.warning("Cache unavailable (add %s)", key, exc_info=True)
        return False
