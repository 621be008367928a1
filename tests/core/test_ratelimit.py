"""The one rate limiter (core.ratelimit): named limits, counted in the cache, open when it is down."""

import logging

import pytest
import redis
from django.core.cache import caches

from core import ratelimit
from core.ratelimit import photo_quota_exceeded, rate_limit_hit, rate_limit_reached
from tests.celery_support import redis_required_or_skip
from tests.core.broken_cache import BROKEN_CACHES, CLOSED_REDIS_CACHES


@pytest.fixture
def limits(settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "test": {"limit": 3, "window": 60},
        "photos-address": {"limit": 2, "window": 60},
        "photo-bytes-address": {"limit": 1000, "window": 60},
        "photos-attempt": {"limit": 10, "window": 60},
        "photo-bytes-attempt": {"limit": 10_000, "window": 60},
    }
    return settings.RATE_LIMITS


@pytest.fixture(params=["broken", "closed-redis"])
def cache_down(request, settings, monkeypatch):
    settings.CACHES = BROKEN_CACHES if request.param == "broken" else CLOSED_REDIS_CACHES
    monkeypatch.setattr(ratelimit, "_outage", {"warned_at": None, "let_through": 0})


def assert_counts_per_key_and_refuses_over_it():
    """The "test" limit (3 a window): the fourth hit of one key is refused, another key not."""
    assert [rate_limit_hit("test", key="10.0.0.1") for _ in range(4)] == [
        False,
        False,
        False,
        True,
    ]
    assert rate_limit_hit("test", key="10.0.0.2") is False


def test_a_limit_counts_per_key_and_refuses_over_it(limits):
    assert_counts_per_key_and_refuses_over_it()


def test_reached_looks_without_counting(limits):
    for _ in range(2):
        rate_limit_hit("test", key="a")
    assert rate_limit_reached("test", key="a") is False
    assert rate_limit_reached("test", key="a") is False
    rate_limit_hit("test", key="a")
    assert rate_limit_reached("test", key="a") is True


def test_a_cost_counts_bytes(limits):
    assert photo_quota_exceeded(address="a", size=600) is False
    assert photo_quota_exceeded(address="a", size=600) is True  # 1200 bytes > 1000


def test_photo_quotas_count_per_address_and_per_attempt(limits):
    for attempt in ("1", "2"):
        assert photo_quota_exceeded(address="a", attempt=attempt, size=1) is False
    assert photo_quota_exceeded(address="a", attempt="3", size=1) is True
    assert photo_quota_exceeded(address="b", attempt="3", size=1) is False


def test_an_unknown_limit_is_a_programming_error_even_when_the_cache_is_down(cache_down):
    with pytest.raises(KeyError):
        rate_limit_hit("no-such-limit", key="a")


def test_with_the_cache_down_every_limit_lets_through_with_one_warning(limits, cache_down, caplog):
    with caplog.at_level(logging.WARNING, logger="core.ratelimit"):
        results = [rate_limit_hit("test", key="a") for _ in range(50)]
        results += [rate_limit_reached("test", key="a") for _ in range(50)]
        results += [photo_quota_exceeded(address="a", size=10**9) for _ in range(50)]
    assert not any(results)
    warnings = [r for r in caplog.records if r.name == "core.ratelimit"]
    assert len(warnings) == 1
    assert "cache does not answer" in warnings[0].getMessage()


def test_after_a_minute_of_outage_it_warns_again_with_the_count(
    limits, cache_down, caplog, monkeypatch
):
    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    with caplog.at_level(logging.WARNING, logger="core.ratelimit"):
        for _ in range(10):
            rate_limit_hit("test", key="a")
        clock[0] += ratelimit.OUTAGE_WARNING_SECONDS + 1
        rate_limit_hit("test", key="a")
    messages = [r.getMessage() for r in caplog.records if r.name == "core.ratelimit"]
    assert len(messages) == 2
    assert "(10 requests let through" in messages[1]


@pytest.fixture
def redis_limits(limits, settings):
    """The limits counted in a real Redis through the production backend."""
    url = redis_required_or_skip()
    settings.CACHES = {
        "default": {"BACKEND": "core.caching.RedisCache", "LOCATION": url, "KEY_PREFIX": "t-rl"}
    }
    caches["default"].clear()
    yield limits
    caches["default"].clear()


def test_on_redis_a_photo_counts_its_four_quotas_in_one_round_trip(redis_limits, monkeypatch):
    sent = []
    send = redis.connection.Connection.send_packed_command

    def counting_send(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    caches["default"].get("warm")  # the connection is opened before counting
    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting_send)
    assert photo_quota_exceeded(address="a", attempt="1", size=600) is False
    assert len(sent) == 1
    assert photo_quota_exceeded(address="a", attempt="2", size=600) is True  # 1200 > 1000
    assert len(sent) == 2


def test_on_redis_the_limits_count_as_before_and_windows_expire(redis_limits):
    assert_counts_per_key_and_refuses_over_it()
    assert rate_limit_reached("test", key="10.0.0.1") is True
    assert photo_quota_exceeded(address="a", attempt="1", size=1) is False
    assert photo_quota_exceeded(address="a", attempt="2", size=1) is False
    assert photo_quota_exceeded(address="a", attempt="3", size=1) is True  # 3 photos > 2
    backend = caches["default"]
    key = backend.make_key(ratelimit._cache_key("test", "10.0.0.1"))
    assert 0 < backend._cache.get_client().ttl(key) <= 60  # the window's own lifetime
    assert backend.get(ratelimit._cache_key("test", "10.0.0.1")) == 4
