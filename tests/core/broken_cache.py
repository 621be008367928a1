"""A cache backend whose server is down: every operation raises, as Redis's client does."""

from django.core.cache.backends.base import BaseCache


class CacheDown(ConnectionError):
    """What the Redis client raises when Redis does not answer."""


class BrokenCache(BaseCache):
    """``CACHES = {"default": {"BACKEND": "tests.core.broken_cache.BrokenCache"}}``."""

    def __init__(self, location, params):
        super().__init__(params)

    def _down(self, *args, **kwargs):
        raise CacheDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    add = get = set = touch = delete = incr = decr = has_key = clear = _down
    get_many = set_many = delete_many = _down
