"""Django's Redis backend with one client per pool (core.caching.RedisCache)."""

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from tests.celery_support import redis_required_or_skip
from tests.core.broken_cache import CLOSED_REDIS_CACHES


@override_settings(CACHES=CLOSED_REDIS_CACHES)
def test_every_call_uses_the_same_client_and_an_outage_still_raises():
    cache = caches["default"]
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.get("anything")
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.get_many(["a", "b"])


def test_incr_counts_atomically_and_never_revives_an_expired_key():
    url = redis_required_or_skip()
    backend = {"BACKEND": "core.caching.RedisCache", "LOCATION": url, "KEY_PREFIX": "t-incr"}
    with override_settings(CACHES={"default": backend}):
        cache = caches["default"]
        cache.delete("counter")
        with pytest.raises(ValueError):
            cache.incr("counter")
        assert cache.get("counter") is None  # not created by the failed incr
        cache.add("counter", 1, timeout=60)
        assert cache.incr("counter", 4) == 5
        assert cache.decr("counter") == 4
        assert 0 < cache._cache.get_client().ttl(cache.make_key("counter")) <= 60  # kept
        cache.delete("counter")
