"""The replay guard: a (timestamp, nonce) pair is accepted once; the cache down fails open."""

import logging
import time

import pytest
from django.core.cache import cache

from core.replay import replay_first_use, timestamp_fresh
from tests.core.broken_cache import CLOSED_REDIS_CACHES


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_a_pair_is_accepted_once_per_namespace():
    assert replay_first_use("wechat-callback", "1700000000", "42", window=300)
    assert not replay_first_use("wechat-callback", "1700000000", "42", window=300)
    assert replay_first_use("wechat-callback", "1700000000", "43", window=300)
    assert replay_first_use("another-signer", "1700000000", "42", window=300)


@pytest.mark.parametrize(
    ("offset", "fresh"), [(0, True), (-299, True), (299, True), (-301, False), (301, False)]
)
def test_timestamp_window(offset, fresh):
    now = 1_800_000_000.0
    assert timestamp_fresh(str(int(now + offset)), window=300, now=now) is fresh


@pytest.mark.parametrize("value", ["", "abc", "1e9", None, "99999999999999999999999"])
def test_a_timestamp_that_is_not_a_number_is_not_fresh(value):
    assert not timestamp_fresh(value, window=300, now=time.time())


def test_cache_down_lets_the_pair_through_with_a_warning(settings, caplog):
    settings.CACHES = CLOSED_REDIS_CACHES
    caplog.set_level(logging.WARNING)
    assert replay_first_use("wechat-callback", "1700000000", "42", window=300)
    assert "Replay guard is off" in caplog.text
