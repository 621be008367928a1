"""
Fault-drill profile (``make drill``, ``bench/drill.py``): the benchmark profile, which is
``production.py`` with test secrets, plus what a drill needs to count honestly:

- the **real rate limits** (``BENCH_KEEP_RATE_LIMITS=1`` is set by the drill; every
  simulated resident comes from its own address, as behind nginx);
- email and SMS go to **ledger backends** (``bench/drill_backends.py``): one file per
  delivered message in ``DRILL_LEDGER_DIR``, with the outbox row and the identity
  (``Message-ID``, ``X-Linli-Message``) it was sent with, so that the drill counts every
  message delivered once, never or twice;
- **time compressed**: the outbox sweep runs every ``DRILL_SWEEP_EVERY`` seconds (beat) and
  takes messages after ``DRILL_SWEEP_AFTER`` seconds instead of minutes, a message stuck in
  "sending" is taken over after its lease of ``DRILL_SENDING_LEASE`` seconds (a delivery
  may run half of it), a later message waits ``DRILL_ORDER_WAIT`` seconds for an earlier
  one, and retries wait seconds
  (``DRILL_RETRY_BASE_DELAY``, ``DRILL_RETRY_MAX_DELAY``) — otherwise a
  drill would wait half an hour to see what production does after half an hour. The broker's
  visibility timeout is left as in production (an hour): nothing may depend on it;
- no SMS quiet hours (a drill at night would otherwise see every text message wait).

Only ``BENCH_*`` and ``DRILL_*`` variables are read, like the benchmark profile.
"""

import os
from pathlib import Path

from config.settings.beat import BEAT_LOCK_TIMEOUT, BEAT_TICK
from config.settings.bench import *  # noqa: F403
from config.settings.bench import VAR_DIR

DRILL_LEDGER_DIR = Path(os.environ.get("DRILL_LEDGER_DIR") or VAR_DIR / "ledger")
MAILERS = {"default": {"BACKEND": "bench.drill_backends.LedgerEmailBackend", "OPTIONS": {}}}
SMS_BACKEND = "bench.drill_backends.LedgerSmsBackend"
# What a channel takes to accept a message (an SMTP round trip): a worker killed meanwhile
# leaves it "sending", as in production, where sending is most of a delivery's time.
DRILL_SEND_SECONDS = float(os.environ.get("DRILL_SEND_SECONDS") or 0.2)
NOTIFICATIONS_SMS_QUIET_HOURS = None

NOTIFICATIONS_SWEEP_AFTER = int(os.environ.get("DRILL_SWEEP_AFTER") or 10)
# A killed worker's "sending" message is taken over after its lease: seconds, not minutes.
NOTIFICATIONS_SENDING_LEASE = int(os.environ.get("DRILL_SENDING_LEASE") or 20)
NOTIFICATIONS_DELIVERY_TIME_LIMIT = max(1, NOTIFICATIONS_SENDING_LEASE // 2)
NOTIFICATIONS_ORDER_WAIT = int(os.environ.get("DRILL_ORDER_WAIT") or 5)
# Retries (and a message waiting for an earlier one) after seconds, not minutes.
NOTIFICATIONS_RETRY_BASE_DELAY = int(os.environ.get("DRILL_RETRY_BASE_DELAY") or 2)
NOTIFICATIONS_RETRY_MAX_DELAY = int(os.environ.get("DRILL_RETRY_MAX_DELAY") or 10)
# Only the sweep: a daily reminder run firing in the middle of a drill would blur its counts.
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {
        "task": "notifications.messages_sweep",
        "schedule": float(os.environ.get("DRILL_SWEEP_EVERY") or 5),
    },
}
# Beat's lock (config/settings/beat.py; Redis is always there): production's timings unless
# drill 9 (bench/drills/beat.py) compresses them for its two beats.
CELERY_REDBEAT_LOCK_TIMEOUT = int(os.environ.get("DRILL_BEAT_LOCK_TIMEOUT") or BEAT_LOCK_TIMEOUT)
CELERY_BEAT_MAX_LOOP_INTERVAL = float(os.environ.get("DRILL_BEAT_TICK") or BEAT_TICK)
