"""
Celery beat: the schedule, and which beat sends it (imported by ``base.py``).

**The schedule** is one dict; task names ``<app>.<noun>_<verb>`` (a rename needs no alias).

**Which beat sends it.** With Redis (``REDIS_URL``, always in production) beat uses
RedBeat (``celery-redbeat``): the schedule and each entry's last run live in Redis, and a
beat sends only while it holds a lock there (``SET NX PX``, extended by its owner only).
Every node may run beat; the first one started takes the lock and sends, the others wait
for it. A beat that stops cleanly releases the lock and another takes over at its next
try; a beat killed with ``kill -9`` (or its node lost) keeps it until the lock expires.

- ``BEAT_TICK`` (seconds): the longest a beat sleeps between two looks at the schedule;
  the one that sends extends its lock at each look, and the ones that wait try the lock
  this often.
- ``BEAT_LOCK_TIMEOUT`` (seconds): how long the lock outlives its last extension. A killed
  beat is replaced after at most ``BEAT_LOCK_TIMEOUT + BEAT_TICK`` (35 s; the goal is under
  a minute, ``bench/drills/beat.py`` measures it); a beat that is alive but slow keeps its
  lock as long as no look at the schedule takes more than ``BEAT_LOCK_TIMEOUT - BEAT_TICK``
  (25 s: a publish gives up after about 2 s, ``CELERY_BROKER_TRANSPORT_OPTIONS``). A beat
  that finds its lock gone (it stalled longer, or Redis restarted empty) exits before it
  sends anything; systemd starts it again and it waits for the lock like the others.

Each entry's last run is written to Redis before its task is sent, so a beat killed
between the two misses that one run (the next comes at the next slot, and the outbox
sweep catches up with anything a lost run would have sent) rather than the new beat
sending it again. Without Redis (``make run``) there is one beat and its schedule file.
"""

from celery.schedules import crontab

BEAT_TICK = 5
BEAT_LOCK_TIMEOUT = 30

CELERY_BEAT_SCHEDULE: dict = {
    # Re-queue outbox messages whose task was lost (Redis down at publish, restarts).
    "notifications-sweep": {"task": "notifications.messages_sweep", "schedule": 120.0},
    # Every reminder rule once a day, after the SMS quiet hours (local time).
    "reminders-daily": {
        "task": "notifications.reminders_send_due",
        "schedule": crontab(hour=8, minute=30),
    },
    # Personal data past its retention period is deleted at night.
    "privacy-retention": {
        "task": "privacy.retention_apply",
        "schedule": crontab(hour=3, minute=10),
    },
    # Form attempts never submitted, with their photos (REGISTRATION_ATTEMPT_MAX_AGE_HOURS).
    "registration-attempts-delete-old": {
        "task": "registration.attempts_delete_old",
        "schedule": crontab(minute=40),
    },
    # Station page views are counted in the cache; this writes them to the database.
    "stations-visits-flush": {"task": "stations.station_visits_flush", "schedule": 300.0},
    "staff-alerts": {"task": "notifications.staff_alerts_send", "schedule": 900.0},  # 15 min
    # WeChat photos whose download task was lost before the broker (wechat.arrivals).
    "wechat-photos-sweep": {"task": "wechat.arrival_photos_sweep", "schedule": 1800.0},
}
