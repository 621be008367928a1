"""A cache backend whose server is gone: every call raises ConnectionError, as Redis does."""

from django.core.cache.backends.base import BaseCache


class BrokenCache(BaseCache):
    """Breaks the part, not the code: Linli's own code runs unchanged against it."""

    def __init__(self, location, params):
        super().__init__(params)

    def _down(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    add = get = set = touch = delete = has_key = incr = decr = _down
    get_many = set_many = delete_many = clear = _down

    def close(self, **kwargs):
        """Closing a connection that never opened is quiet, as in Django's Redis backend."""


BROKEN_CACHES = {"default": {"BACKEND": "tests.core.broken_cache.BrokenCache"}}
# The Redis backend of production with nothing listening: the fault as production meets it.
CLOSED_REDIS_CACHES = {
    "default": {
        "BACKEND": "core.caching.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
