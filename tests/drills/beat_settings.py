"""
Settings of the two real beats ``test_beat_failover`` starts and kills: the test profile
on the test's own redis-server (``REDIS_URL``, so beat uses RedBeat's lock, ``core/beat.py``),
publishing for real, with one entry every second and the lock's timings in seconds
(``DRILL_BEAT_*``, as ``config.settings.drill`` reads them for drill 9).
"""

import os

from config.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {"task": "notifications.messages_sweep", "schedule": 1.0},
}
CELERY_REDBEAT_LOCK_TIMEOUT = int(os.environ["DRILL_BEAT_LOCK_TIMEOUT"])
CELERY_BEAT_MAX_LOOP_INTERVAL = float(os.environ["DRILL_BEAT_TICK"])
