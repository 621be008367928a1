"""
Settings of the real worker the drill tests start and kill (a process of its own, so it
cannot see the test's in-memory outboxes): the test profile on the test database, with the
drill's ledger backends, which write one file per delivered message (bench/drill_backends).
"""

import os
from pathlib import Path

from config.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
MAILERS = {"default": {"BACKEND": "bench.drill_backends.LedgerEmailBackend", "OPTIONS": {}}}
SMS_BACKEND = "bench.drill_backends.LedgerSmsBackend"
DRILL_LEDGER_DIR = Path(os.environ["DRILL_LEDGER_DIR"])
# An SMTP round trip: a worker killed meanwhile leaves its message "sending".
DRILL_SEND_SECONDS = float(os.environ.get("DRILL_SEND_SECONDS") or 0.2)
# A killed worker's "sending" message is taken over after its lease: seconds, not minutes.
NOTIFICATIONS_DELIVERY_TIME_LIMIT = 1
NOTIFICATIONS_SENDING_LEASE = 2
