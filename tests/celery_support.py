"""
A real Celery worker against a real Redis, for tests marked ``celery_worker``.

``live_worker`` starts Celery's embedded worker (``celery.contrib.testing.worker``) in a
thread of the test process, consuming from the Redis broker of ``REDIS_URL``. Being in the
same process it sees the test database — the tests use ``transactional_db`` so that what
the test commits is visible to the worker's own connection — and the in-memory mail and
SMS outboxes. Tasks are published for real (not eager) while the fixture is active.

Without ``REDIS_URL`` the tests are skipped with a reason; with ``LINLI_REQUIRE_REDIS=1``
(set by ``.ci/run``) they fail instead, so CI cannot pass by skipping them.
"""

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from celery.signals import task_postrun

REQUIRE_ENV = "LINLI_REQUIRE_REDIS"


def redis_required_or_skip() -> str:
    """Return ``REDIS_URL`` if Redis answers; else skip (or fail under LINLI_REQUIRE_REDIS=1)."""
    url = os.environ.get("REDIS_URL", "")
    required = os.environ.get(REQUIRE_ENV) == "1"
    if not url:
        reason = "REDIS_URL is not set: the real-worker tests need a Redis broker"
        if required:
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1 forbids skipping them)")
        pytest.skip(reason)
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as error:
        reason = f"Redis at REDIS_URL does not answer ({error})"
        if required:
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1 forbids skipping)")
        pytest.skip(reason)
    return url


def closed_port() -> int:
    """Return a loopback TCP port on which nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reset_publishing_pools(app) -> None:
    """Forget the app's publishing pools so the next publish uses the current broker URL.

    The pools themselves live on in kombu's registry (keyed by URL) and are reused later.
    """
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def broker_unreachable(app) -> Iterator[str]:
    """Make publishing fail as if Redis were down (the worker keeps its own connection)."""
    url = f"redis://127.0.0.1:{closed_port()}/15"
    previous = app.conf.broker_write_url
    app.conf.broker_write_url = url
    _reset_publishing_pools(app)
    try:
        yield url
    finally:
        app.conf.broker_write_url = previous
        _reset_publishing_pools(app)


class LiveWorker:
    """Handle on the running worker: wait for tasks, make the broker unreachable."""

    def __init__(self, app, worker):
        self.app = app
        self.worker = worker
        self._finished: list[tuple[str, str]] = []  # (task name, task id)
        self._lock = threading.Lock()

    def _on_postrun(self, sender=None, task_id=None, task=None, **kwargs):
        with self._lock:
            self._finished.append((getattr(task, "name", str(sender)), task_id))

    def finished(self, name: str | None = None) -> int:
        """Return how many tasks (named ``name``) the worker has finished."""
        with self._lock:
            return sum(1 for task_name, _id in self._finished if name in (None, task_name))

    def wait_for(self, condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
        """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"The worker did not get there within {timeout} s.")
            time.sleep(0.05)

    def broker_unreachable(self):
        return broker_unreachable(self.app)


@pytest.fixture
def live_worker(transactional_db, monkeypatch) -> Iterator[LiveWorker]:
    """Start a real Celery worker on the Redis of ``REDIS_URL`` for the duration of a test."""
    redis_required_or_skip()
    # The worker would run Django's system checks at start-up; the suite checks them apart.
    monkeypatch.setenv("CELERY_SKIP_CHECKS", "1")
    from celery.contrib.testing.worker import start_worker

    from config.celery_app import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    _reset_publishing_pools(app)
    app.control.purge()  # tasks left by an earlier, interrupted run refer to other databases
    handle = None
    try:
        with start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=20
        ) as worker:
            handle = LiveWorker(app, worker)
            task_postrun.connect(handle._on_postrun, weak=False)
            yield handle
    finally:
        if handle is not None:
            task_postrun.disconnect(handle._on_postrun)
        app.conf.task_always_eager = eager
        _reset_publishing_pools(app)
