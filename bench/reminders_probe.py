"""
Figure 6, run by bench/run.py in its own process (so that its peak memory is its own):
``send_due_reminders`` over the benchmark database ÷ raw SQL SELECTs of the same due rows.

1. the baseline: for each registration rule, one hand-written SQL SELECT of its due rows
   (with the resident and station columns the rule reads), fetched whole — best of 3;
2. ``send_due_reminders --dry-run``: every rule finds its due rows, queues nothing;
3. ``send_due_reminders``: the real run, which queues the messages (Celery publishes to
   the benchmark's Redis database; no worker delivers them).

Query counts come from a database execute wrapper, memory from the kernel (peak RSS of
this process: VmHWM, else getrusage). Prints one JSON line.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from registration.constants import ACTIVE_STATUSES  # noqa: E402
from registration.models import Registration  # noqa: E402

COLUMNS = "r.*, p.*, s.*"
# Only what the rules read of a due row (the streams and the outbox INSERT … SELECT): the
# baseline's wide rows cost the client three times as much to decode (bench/README.md).
RULE_COLUMNS = (
    "r.id, r.reference, r.status, r.staff_message, r.station_id, r.visa_valid_until, "
    "r.expected_departure, r.status_changed_at, p.id, p.surname, p.given_names, p.email, "
    "p.phone, p.preferred_channel, p.preferred_language"
)
JOINS = (
    "registration_registration r JOIN registration_resident p ON p.id = r.resident_id "
    "JOIN stations_station s ON s.id = r.station_id"
)


def due_selects(today: datetime.date, now: datetime.datetime) -> list[tuple[str, list]]:
    """The due rows of every registration rule, as plain SQL (see registration/reminders.py).

    Fixed SQL text with every value as a parameter (hence the S608 exemptions).
    """
    active = list(ACTIVE_STATUSES)
    catch_up = 2
    windows, params = [], [active]
    for days in sorted(set(settings.REGISTRATION_VISA_REMINDER_DAYS)):
        end = today + datetime.timedelta(days=days)
        windows.append("r.visa_valid_until BETWEEN %s AND %s")
        params += [max(today, end - datetime.timedelta(days=catch_up)), end]
    correction = now - datetime.timedelta(hours=settings.REGISTRATION_CORRECTION_REMINDER_HOURS)
    # staff_waiting: deadlines within REGISTRATION_STAFF_REMINDER_HOURS, or passed lately.
    staff = now + datetime.timedelta(hours=settings.REGISTRATION_STAFF_REMINDER_HOURS)
    back = datetime.timedelta(days=catch_up + 1)
    return [
        (
            f"SELECT {COLUMNS} FROM {JOINS} WHERE r.status = ANY(%s) "  # noqa: S608
            f"AND ({' OR '.join(windows)})",
            params,
        ),
        (
            "SELECT r.id, r.reference FROM registration_registration r "
            "WHERE r.status = ANY(%s) AND r.visa_valid_until < %s",
            [active, today],
        ),
        (
            f"SELECT {COLUMNS} FROM {JOINS} WHERE r.status = 'correction_requested' "  # noqa: S608
            "AND r.status_changed_at <= %s AND r.status_changed_at > %s",
            [correction, correction - back],
        ),
        (
            f"SELECT {COLUMNS} FROM {JOINS} WHERE r.status = ANY(%s) "  # noqa: S608
            "AND r.expected_departure < %s AND r.expected_departure >= %s",
            [active, today, today - back],
        ),
        (
            "SELECT r.*, s.* FROM registration_registration r "
            "JOIN stations_station s ON s.id = r.station_id WHERE r.status = 'submitted' "
            "AND r.deadline_at <= %s AND r.deadline_at > %s ORDER BY r.station_id, r.id",
            [staff, now - back],
        ),
    ]


def raw_select(selects) -> tuple[float, int]:
    start = time.perf_counter()
    rows = 0
    with connection.cursor() as cursor:
        for sql, params in selects:
            cursor.execute(sql, params)
            rows += len(cursor.fetchall())
    return time.perf_counter() - start, rows


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started, in MB.

    Linux's ``VmHWM`` starts afresh at exec; ``getrusage``'s ``ru_maxrss`` does not (a child
    forked from a big parent starts with the parent's peak), so it is only the fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def command(*args) -> tuple[float, int, str]:
    counter = Counter()
    out = io.StringIO()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        call_command("send_due_reminders", *args, stdout=out, stderr=out)
        seconds = time.perf_counter() - start
    return seconds, counter.count, out.getvalue()


def totals(output: str) -> tuple[int, int]:
    """(due, queued) from the command's last line: '<day>: N rules, D due, Q queued'."""
    match = re.search(r"(\d+) due, (\d+) queued", output.strip().splitlines()[-1])
    return (int(match.group(1)), int(match.group(2))) if match else (-1, -1)


def broker_connect() -> None:
    """Open the broker connection before the clock starts, as the database's is (by the
    baseline): its one-off cost (about 0.3 s here: imports, connecting) is no per-row cost;
    so is loading the result backend (even the disabled one: ~0.03 s, once a process), which
    a worker that runs the reminders has long loaded."""
    from celery import current_app

    with current_app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1)
    current_app.backend  # noqa: B018 (loaded on first use)


def main() -> None:
    now = timezone.localtime()
    today = now.date()
    registrations = Registration.objects.count()
    rss_start = peak_rss_mb()
    selects = due_selects(today, now)
    raw_select(selects)  # warm: the same buffers for everyone
    sql_seconds, sql_rows = min(raw_select(selects) for _ in range(3))
    narrow = [(sql.replace(COLUMNS, RULE_COLUMNS), params) for sql, params in selects]
    raw_select(narrow)
    narrow_seconds = min(raw_select(narrow)[0] for _ in range(3))
    dry_seconds, dry_queries, dry_out = command("--dry-run", "--today", today.isoformat())
    dry_due, _ = totals(dry_out)
    broker_connect()
    seconds, queries, out = command("--today", today.isoformat())
    due, queued = totals(out)
    peak = peak_rss_mb()
    print(
        json.dumps(
            {
                "registrations": registrations,
                "sql_seconds": sql_seconds,
                "sql_rows": sql_rows,
                "narrow_seconds": narrow_seconds,
                "dry_seconds": dry_seconds,
                "dry_queries": dry_queries,
                "dry_due": dry_due,
                "command_seconds": seconds,
                "queries": queries,
                "due": due,
                "queued": queued,
                "peak_mb": peak,
                "start_mb": rss_start,
                "rules": len(settings.REMINDER_RULES),
            }
        )
    )


if __name__ == "__main__":
    main()
