"""The cache as a help, never a dependency: a cache outage degrades to the database."""

import logging

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger(__name__)


def cache_get(key: str, default=None):
    """Return ``cache.get(key)``, or ``default`` when the cache does not answer."""
    try:
        return cache.get(key, default)
    except Exception:
        logger.warning("Cache unavailable (get %s)", key, exc_info=True)
        return default


def cache_get_many(keys: list[str]) -> dict:
    """Return ``cache.get_many(keys)``, or ``{}`` when the cache does not answer."""
    try:
        return cache.get_many(keys)
    except Exception:
        logger.warning("Cache unavailable (get_many %s)", keys[:3], exc_info=True)
        return {}


def cache_set(key: str, value, timeout) -> None:
    """Store ``value`` if the cache answers; otherwise carry on without it."""
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("Cache unavailable (set %s)", key, exc_info=True)


class RedisCache(DjangoRedisCache):
    """
    Django's Redis cache backend with two changes, both in its client:

    - one ``redis.Redis`` per connection pool: Django makes a new one for every cache call,
      which costs redis-py about as much as the round trip itself (it copies its table of
      reply parsers each time); a client is thread-safe and holds no connection of its own;
    - ``incr`` in one atomic round trip: Django's ``EXISTS`` then ``INCRBY`` takes two, and
      a key expiring between them comes back from ``INCRBY`` as a counter that never
      expires (a rate limit that never lifts). Still ``ValueError`` for a missing key;

    and one addition: ``count_many``, several counters of fixed windows counted in one
    round trip (core.ratelimit; a photo counts four).
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _RedisCacheClient

    def count_many(self, counts: list[tuple[str, int, int]]) -> list[int]:
        """
        Add ``delta`` to each ``(key, delta, window)`` counter, created with a lifetime of
        ``window`` seconds when it does not exist (an existing one keeps its own); return
        the totals. One atomic round trip, as ``add`` then ``incr`` of each would be four.
        """
        keys = [self.make_and_validate_key(key) for key, _delta, _window in counts]
        args = [int(value) for _key, delta, window in counts for value in (delta, window)]
        return self._cache.count_many(keys, args)


class _RedisCacheClient(RedisCacheClient):
    _INCR_EXISTING = (
        "if redis.call('exists', KEYS[1]) == 1 then"
        " return redis.call('incrby', KEYS[1], ARGV[1]) end return false"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    # A Lua script runs atomically with the clock stopped: no key expires between its SET
    # and its INCRBY. Values are stored as Django's serializer stores an int (plain digits).
    _COUNT_MANY = (
        "local totals = {} for i, key in ipairs(KEYS) do"
        " redis.call('set', key, 0, 'EX', ARGV[2 * i], 'NX')"
        " totals[i] = redis.call('incrby', key, ARGV[2 * i - 1]) end return totals"
    )

    def count_many(self, keys: list[str], args: list[int]) -> list[int]:
        if not keys:
            return []
        return self.get_client(write=True).eval(self._COUNT_MANY, len(keys), *keys, *args)

    def incr(self, key, delta):
        value = self.get_client(key, write=True).eval(self._INCR_EXISTING, 1, key, delta)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value
