"""
Drill 9 of ``make drill`` as a test: two real beats (``celery beat``, each in its own
process group) on a redis-server of the test's own. Exactly one takes RedBeat's lock and
sends; it is killed with ``kill -9``; the other takes over, nothing is sent twice and no
slot is missed outside the takeover; the killed beat, started again, sends nothing.

It needs no database; like the other real-Redis tests it is skipped without ``REDIS_URL``
(or ``redis-server``) and fails instead under ``LINLI_REQUIRE_REDIS=1`` (``.ci/run``).
"""

import os

import pytest

from bench.drills.beat import beat_failover, beat_goals, beat_stall

pytestmark = pytest.mark.drill

LOCK_TIMEOUT = 4  # seconds; production's is 30 (config/settings/beat.py)
TICK = 0.5


def test_one_beat_sends_and_the_other_takes_over_after_kill_9(private_redis, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.drills.beat_settings",
            "REDIS_URL": private_redis.url,
            "CELERY_SKIP_CHECKS": "1",
            "PYTHONPATH": os.getcwd(),
        }
    )

    counts = beat_failover(
        env, tmp_path, lock_timeout=LOCK_TIMEOUT, tick=TICK, interval=1.0, before=3, after=3
    )

    assert counts["holding_before_kill"] == 1, counts
    assert counts["sending_before_kill"] == 1, counts
    assert counts["takeover_s"] is not None, counts  # the other beat took the lock
    assert counts["first_send_s"] is not None, counts  # … and sent
    assert counts["takeover_s"] <= counts["first_send_s"], counts
    assert counts["duplicates"] == 0, counts
    assert counts["missed"] == 0, counts
    assert counts["restarted_sends"] == 0, counts
    assert counts["sends"] >= 5, counts  # before, at and after the takeover
    assert beat_goals(counts) == [], counts


def test_a_stalled_beat_keeps_its_lock_and_one_stalled_too_long_sends_nothing(
    private_redis, tmp_path
):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.drills.beat_settings",
            "REDIS_URL": private_redis.url,
            "CELERY_SKIP_CHECKS": "1",
            "PYTHONPATH": os.getcwd(),
        }
    )

    counts = beat_stall(env, tmp_path, lock_timeout=LOCK_TIMEOUT, tick=TICK, interval=1.0)

    # Stopped for less than the lock's timeout minus a tick: still the only one sending.
    assert counts["other_sent_during_short"] == 0, counts
    # Stopped for longer than the lock: the other sent; the stalled one, continued, did not.
    assert counts["other_took_over"], counts
    assert counts["stalled_sends_after"] == 0, counts
    assert counts["stalled_saw_lock_lost"], counts
    assert counts["duplicates"] == 0, counts
