"""The embedded broker (core.broker): nothing half-read, nothing lost, nothing left behind."""

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

ROOT = Path(__file__).resolve().parent.parent.parent
QUEUE = Queue("tasks", Exchange("tasks", type="direct"), routing_key="tasks")


def _connection(url: str, **options) -> Connection:
    return Connection(url, transport="core.broker:Transport", transport_options=options)


@pytest.fixture
def broker_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'broker.sqlite3'}"


def _publish(url: str, bodies) -> None:
    with _connection(url) as conn:
        producer = conn.Producer(serializer="json")
        for body in bodies:
            producer.publish(body, exchange=QUEUE.exchange, routing_key="tasks", declare=[QUEUE])


def _take(url: str, *, ack: bool = True, limit: int = 10_000, **options) -> list:
    """Return the bodies waiting in the queue (acknowledging each unless told not to)."""
    taken = []
    with _connection(url, **options) as conn:
        queue = QUEUE(conn.default_channel)
        queue.declare()
        while len(taken) < limit:
            message = queue.get(no_ack=False)
            if message is None:
                break
            taken.append(message.decode())
            if ack:
                message.ack()
    return taken


def _rows(url: str) -> int:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT count(*) FROM kombu_message").fetchone()[0]


def test_concurrent_publishers_and_a_consumer_never_see_half_a_message(broker_url):
    """Four writers and a reader at once: every message arrives whole and exactly once."""
    _publish(broker_url, [])  # create the tables
    writers = [
        threading.Thread(target=_publish, args=(broker_url, [{"w": w, "n": n} for n in range(50)]))
        for w in range(4)
    ]
    received = []
    done = threading.Event()

    def read():
        while not done.is_set() or len(received) < 200:
            got = _take(broker_url, limit=20)
            received.extend(got)
            if done.is_set() and not got:
                break

    reader = threading.Thread(target=read)
    reader.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
    done.set()
    reader.join(timeout=60)
    assert sorted((m["w"], m["n"]) for m in received) == sorted(
        (w, n) for w in range(4) for n in range(50)
    )
    assert _rows(broker_url) == 0  # acknowledged messages leave nothing behind


def test_a_message_held_by_a_worker_killed_with_kill_9_is_delivered_again(broker_url):
    _publish(broker_url, [{"n": 1}])
    # A separate process takes the message and dies before acknowledging it.
    script = textwrap.dedent(
        f"""
        import os
        from kombu import Connection, Exchange, Queue
        queue = Queue("tasks", Exchange("tasks", type="direct"), routing_key="tasks")
        conn = Connection({broker_url!r}, transport="core.broker:Transport")
        message = queue(conn.default_channel).get(no_ack=False)
        assert message.decode() == {{"n": 1}}
        os._exit(9)
        """
    )
    died = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=60, check=False)
    assert died.returncode == 9
    assert _take(broker_url) == []  # still held (invisible) within the visibility timeout
    assert _take(broker_url, visibility_timeout=0) == [{"n": 1}]  # the worker is gone: again
    assert _rows(broker_url) == 0


def test_a_message_given_back_at_shutdown_is_delivered_again_and_first(broker_url):
    _publish(broker_url, [{"n": 1}, {"n": 2}])
    with _connection(broker_url) as conn:
        channel = conn.default_channel
        message = QUEUE(channel).get(no_ack=False)
        assert message.decode() == {"n": 1}
        message.requeue()  # what a worker does with its unacknowledged messages on shutdown
    assert _take(broker_url) == [{"n": 1}, {"n": 2}]
    assert _rows(broker_url) == 0


def test_a_rejected_message_is_deleted(broker_url):
    _publish(broker_url, [{"n": 1}])
    with _connection(broker_url) as conn:
        QUEUE(conn.default_channel).get(no_ack=False).reject()
    assert _take(broker_url, visibility_timeout=0) == []
    assert _rows(broker_url) == 0


def test_the_embedded_default_uses_this_broker_without_redis():
    """With no REDIS_URL, Celery publishes to core.broker in var/ (what `make run` runs)."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    code = (
        "import django; django.setup();"
        "from django.conf import settings;"
        "print(settings.CELERY_BROKER_TRANSPORT, settings.CELERY_BROKER_URL)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    transport, url = out.stdout.split()
    assert transport == "core.broker:Transport"
    assert url.startswith("sqlite:///") and url.endswith("broker.sqlite3")
