"""
The drills' residents: each registers or asks for help through the real forms, with an
address of its own; and residents whose visa makes them due for a reminder today.

The project's modules are imported inside the functions: they run after ``django.setup()``,
which the command (bench/run.py, bench/drill.py) calls once the environment is set.
"""

from __future__ import annotations

import datetime
import itertools
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from bench.common import Client
from bench.drills import STATIONS
from bench.journeys import ask_for_help, register

_numbers = itertools.count(1)
_numbers_lock = threading.Lock()


def next_resident() -> int:
    with _numbers_lock:
        return next(_numbers)


def seed_due(count: int, *, visa_in_days: int) -> list[int]:
    """Add ``count`` registered residents (``bench.datagen``) whose visa expires in
    ``visa_in_days`` days (negative: expired): due for ``send_due_reminders`` today."""
    from django.db.models import Max
    from django.utils import timezone

    from bench import datagen
    from registration.models import Registration

    before = Registration.objects.aggregate(top=Max("pk"))["top"] or 0
    datagen.registrations_add(count)
    today = timezone.localdate()
    rows = Registration.objects.filter(pk__gt=before)
    rows.update(
        status="registered",
        entry_date=today - datetime.timedelta(days=400),
        visa_valid_until=today + datetime.timedelta(days=visa_in_days),
        expected_departure=today + datetime.timedelta(days=300),
    )
    return list(rows.values_list("pk", flat=True))


def officer():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=f"officer-{STATIONS[0]}")


def flows(port: int, count: int, files, *, helpers: int = 0, parallel: int = 4, think=0.0):
    """``count`` residents register and ``helpers`` visitors ask for help, ``parallel`` at once.

    Return ([(n, FlowResult)], [(n, HelpResult)]).
    """
    jobs = [("register", next_resident()) for _ in range(count)]
    jobs += [("help", next_resident()) for _ in range(helpers)]
    random.shuffle(jobs)

    def one(job):
        kind, n = job
        client = Client(port, client_ip=f"10.{60 + n // 62500}.{n // 250 % 250}.{n % 250 + 1}")
        try:
            if kind == "register":
                code = STATIONS[n % len(STATIONS)]
                return kind, n, register(client, code, n, files, think=think)
            return kind, n, ask_for_help(client, STATIONS[0], n, by_sms=n % 2 == 0)
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        done = list(pool.map(one, jobs))
    registered = [(n, r) for kind, n, r in done if kind == "register"]
    helped = [(n, r) for kind, n, r in done if kind == "help"]
    return registered, helped
