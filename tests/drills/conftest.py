"""
Fixtures of the fault-drill tests: the fast drills of ``make drill`` (bench/drill.py) as
tests. They break what the fault breaks — a ``redis-server`` of their own stopped, a real
worker killed with ``kill -9``, a PostgreSQL connection terminated mid-request — and assert
what a resident sees.

They need PostgreSQL (``DATABASE_URL``) and, as the other real-Redis tests, ``REDIS_URL``;
without them they are skipped, and with ``LINLI_REQUIRE_REDIS=1`` (``.ci/run``) they fail
instead. They never use the Redis of ``REDIS_URL``: each test starts its own redis-server on
a free port.
"""

import contextlib
import os
import shutil
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import override_settings

from bench.processes import RedisServer
from tests.celery_support import REQUIRE_ENV, _reset_publishing_pools


def _skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 forbids skipping the drill tests)")
    pytest.skip(reason)


@pytest.fixture
def drill_ready(transactional_db) -> Iterator[None]:
    """Skip (or fail under LINLI_REQUIRE_REDIS=1) without PostgreSQL, REDIS_URL, redis-server."""
    if connection.vendor != "postgresql":
        _skip_or_fail("the drill tests need PostgreSQL (DATABASE_URL)")
    if not os.environ.get("REDIS_URL"):
        _skip_or_fail("the drill tests run with the real-Redis suite (REDIS_URL)")
    if not shutil.which("redis-server"):
        _skip_or_fail("the drill tests start their own redis-server, which is not installed")
    yield
    # A test that cut the connection leaves it dead; the database flush after it needs one.
    if connection.connection is not None and not connection.is_usable():
        connection.close()


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test on a free port, for tests that need no database (beat)."""
    if not os.environ.get("REDIS_URL"):
        _skip_or_fail("the beat tests run with the real-Redis suite (REDIS_URL)")
    if not shutil.which("redis-server"):
        _skip_or_fail("the beat tests start their own redis-server, which is not installed")
    yield from _running_redis(tmp_path)


@pytest.fixture
def own_redis(drill_ready, tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test on a free port; ``stop()`` and ``start()`` it at will."""
    yield from _running_redis(tmp_path)


def _running_redis(tmp_path) -> Iterator[RedisServer]:
    """Start a redis-server logging under ``tmp_path``, yield it, stop it whatever happens."""
    server = RedisServer(tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def on_own_redis(own_redis) -> Iterator[RedisServer]:
    """Cache and broker of this process on ``own_redis``; tasks published for real."""
    from config.celery_app import app

    caches = {
        "default": {
            "BACKEND": "core.caching.RedisCache",
            "LOCATION": own_redis.url,
            "KEY_PREFIX": "linli-drill-test",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    saved = {
        name: app.conf.get(name)
        for name in ("broker_read_url", "broker_write_url", "task_always_eager")
    }
    app.conf.broker_read_url = app.conf.broker_write_url = own_redis.url
    app.conf.task_always_eager = False
    _reset_publishing_pools(app)
    try:
        with override_settings(CACHES=caches):
            yield own_redis
    finally:
        for name, value in saved.items():
            app.conf[name] = value
        _reset_publishing_pools(app)


@pytest.fixture
def in_process_worker(on_own_redis, monkeypatch):
    """Start a Celery worker in this process on ``own_redis`` (sees the locmem outboxes)."""

    @contextlib.contextmanager
    def start():
        from celery.contrib.testing.worker import start_worker

        from config.celery_app import app

        monkeypatch.setenv("CELERY_SKIP_CHECKS", "1")
        with start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=20
        ) as worker:
            yield worker

    return start
