"""
A standby beat — started while another holds RedBeat's lock, so waiting in RedBeat's own
start-up wait — takes the lock after Redis restarted empty and must send: the schedule it
wrote at start-up went with Redis. The two-node drill (bench/drill_nodes.py) found it
holding the lock and sending nothing until another beat started; core/beat.py now writes
the schedule under every lock it did not write it under.

Real beats (``celery beat``), a redis-server of the test's own; skipped without
``REDIS_URL`` like the other real-Redis tests (failing under ``LINLI_REQUIRE_REDIS=1``).
"""

import os
import time

import pytest

from bench.drills.beat import Beat

pytestmark = pytest.mark.drill


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_standby_beat_sends_after_redis_restarted_empty(private_redis, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.drills.beat_settings",
            "REDIS_URL": private_redis.url,
            "CELERY_SKIP_CHECKS": "1",
            "PYTHONPATH": os.getcwd(),
            "DRILL_BEAT_LOCK_TIMEOUT": "4",
            "DRILL_BEAT_TICK": "0.5",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
        }
    )
    sending = Beat("sending", env, tmp_path / "sending.log")
    standby = Beat("standby", env, tmp_path / "standby.log")

    def kinds(beat, kind, after=0.0):
        return [t for t, k, _name in beat.events() if k == kind and t > after]

    try:
        sending.start()
        assert _wait(lambda: kinds(sending, "send"), 60), "the first beat never sent"
        standby.start()
        # The standby has written its schedule and waits for the lock (RedBeat's wait).
        assert _wait(lambda: "beat: Starting" in standby.log_path.read_text(), 60)
        time.sleep(2)
        assert kinds(standby, "lock") == []
        # Redis restarts empty and the sending beat's node is lost with it.
        private_redis.stop()
        sending.kill9()
        private_redis.start()
        restarted = time.time()

        assert _wait(lambda: kinds(standby, "lock", restarted), 20), "no beat took the lock"
        sent = _wait(lambda: len(kinds(standby, "send", restarted)) >= 3, 20)
    finally:
        for beat in (sending, standby):
            beat.stop()
    assert sent, (
        "the standby beat holds the lock and sends nothing: " + standby.log_path.read_text()[-2000:]
    )
