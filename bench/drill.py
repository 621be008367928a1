"""
``make drill``: Linli's fault drills. Each drill breaks one part the way production breaks
it — Redis stops, a worker or its pool children die with ``kill -9``, every database
connection is cut, two reminder runs overlap, gunicorn gets SIGTERM, Redis restarts with
tasks in it — while residents register and messages go out, then counts what a resident
would notice. One table at the end; the exit status says whether every goal was met.

The stack is production's (``config.settings.drill``: ``config.settings.bench``, i.e.
``production.py`` with test secrets, the real rate limits, ledger backends that count every
delivered email and SMS, and the outbox sweep's minutes compressed to seconds): gunicorn
with ``config/gunicorn.py``, two Celery workers (prefork, 2 children each), one beat, a
PostgreSQL database of its own (``linli_drill`` on 127.0.0.1:5432, user ``postgres``,
created and dropped here) and a ``redis-server`` of its own on a free port (started,
stopped and restarted here; the machine's Redis is never touched).

    .venv/bin/python bench/drill.py [--short] [--only 1,4] [--report-only] [--keep]
                                    [--soak-minutes N]

Goals (a missed one makes the exit status 1, unless ``--report-only``): no registration
lost, no message lost, none delivered twice, none out of order, no 5xx answer except for
requests in flight on a killed process; plus each drill's own goal, printed in its notes
("MISSED: …"). See bench/README.md, "Fault drills", for what each drill does and counts.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import LOOPBACK, Client, Gunicorn, log  # noqa: E402
from bench.environment import child_env, manage, pg_drop, pg_setup  # noqa: E402
from bench.journeys import ask_for_help, register, small_photo  # noqa: E402
from bench.processes import CeleryProcess, RedisServer  # noqa: E402
from bench.seeds import phone_photos, registration_files, seed_stations  # noqa: E402

VAR = ROOT / "var" / "drill"
LEDGER = VAR / "ledger"
PG_DB = os.environ.get("DRILL_PG_DB", "linli_drill")
STATIONS = ["bench-01", "bench-02", "bench-03"]
SETTINGS = "config.settings.drill"
ERROR_LINE = re.compile(r"\bERROR\b|\bCRITICAL\b|Traceback \(most recent call last\)")
NETWORK_ERRORS = ("ConnectionResetError", "RemoteDisconnected", "BrokenPipeError")
# Outbox statuses of a message meant to be delivered; any other one (cancelled …) says it
# was dropped on purpose, with a reason, and is not counted as lost.
LIVE_STATUSES = ("created", "sending", "sent", "failed")


# ------------------------------------------------------------------------------
# The processes: Celery workers and beat (bench.processes), gunicorn (bench.common)
# ------------------------------------------------------------------------------
def worker(name: str, env: dict) -> CeleryProcess:
    return CeleryProcess(
        name,
        [
            "worker",
            *("-n", f"{name}@%h", "--pool=prefork", "--concurrency=2", "--loglevel=INFO"),
            # Start-up in a second instead of three; neither changes how tasks are delivered.
            *("--without-gossip", "--without-mingle"),
        ],
        env,
        VAR / f"{name}.log",
        ready=" ready.",
    )


def beat(env: dict) -> CeleryProcess:
    schedule = VAR / "celerybeat-schedule"
    return CeleryProcess(
        "beat",
        ["beat", "-s", str(schedule), "--loglevel=INFO"],
        env,
        VAR / "beat.log",
        ready="beat: Starting",
    )


@dataclass
class Stack:
    """Everything the drills break: Redis, gunicorn, two workers, beat."""

    env: dict
    redis: RedisServer
    gunicorn: Gunicorn | None = None
    workers: list[CeleryProcess] = field(default_factory=list)
    beat: CeleryProcess | None = None
    restarts: list[str] = field(default_factory=list)

    def ensure_up(self) -> list[str]:
        """Restart whatever died on its own (not killed by the drill); say what."""
        notes = []
        if self.redis.process is None or self.redis.process.poll() is not None:
            self.redis.start()
            notes.append("redis-server had stopped")
        for process in [*self.workers, self.beat]:
            if process is not None and not process.alive:
                notes.append(f"{process.name} had died (see {process.log_path.name})")
                process.start(wait=False)
        for process in [*self.workers, self.beat]:
            if process is not None and not process.is_ready():
                process.wait_ready()
        self.restarts += notes
        return notes

    def stop(self) -> None:
        for process in [*self.workers, self.beat]:
            if process is not None:
                with contextlib.suppress(Exception):
                    process.stop(timeout=15)
        if self.gunicorn is not None:
            with contextlib.suppress(Exception):
                self.gunicorn.stop()
        self.redis.stop()


# ------------------------------------------------------------------------------
# Counting: registrations, messages (the ledger), order
# ------------------------------------------------------------------------------
def ledger_entries() -> list[dict]:
    """Every delivery the ledger backends wrote (one JSON file each), oldest first."""
    entries = []
    for path in LEDGER.glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            entries.append(json.loads(path.read_text(encoding="utf-8")))
    return sorted(entries, key=lambda e: e.get("t", 0))


def message_last_pk() -> int:
    from notifications.models import Message

    return Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@dataclass
class MessageTally:
    made: int = 0
    once: int = 0
    never: int = 0
    twice: int = 0  # delivered two or more times
    extra: int = 0  # deliveries beyond the first
    same_identity: int = 0  # of the repeated ones, sent again with the same Message-ID/key
    dropped: int = 0  # cancelled on purpose (a message that no longer matters)
    pending: int = 0  # still waiting or "sending" when the drill stopped waiting
    failed_recorded: int = 0  # outbox says failed, nothing delivered
    delivered_but_failed: int = 0  # delivered, yet the outbox says it failed
    out_of_order: int = 0
    unmatched: int = 0  # deliveries the ledger could not tie to an outbox row

    @property
    def lost(self) -> int:
        return self.never

    def line(self) -> str:
        parts = [f"{self.made} messages: {self.once} once, {self.never} never, {self.twice} twice"]
        if self.dropped:
            parts.append(f"{self.dropped} dropped on purpose")
        if self.pending:
            parts.append(f"{self.pending} still pending")
        if self.failed_recorded:
            parts.append(f"{self.failed_recorded} recorded failed")
        if self.delivered_but_failed:
            parts.append(f"{self.delivered_but_failed} delivered but recorded failed")
        if self.twice:
            parts.append(f"{self.same_identity} of the repeats with the same identity")
        return ", ".join(parts)


def _identity(entry: dict) -> str:
    return entry.get("message_id") or entry.get("sms_key") or ""


def messages_tally(first_pk: int, *, last_pk: int | None = None) -> MessageTally:
    """Count the fate of the outbox messages after ``first_pk`` in the ledger."""
    from notifications.constants import MessageStatus
    from notifications.models import Message

    rows = Message.objects.filter(pk__gt=first_pk)
    if last_pk is not None:
        rows = rows.filter(pk__lte=last_pk)
    rows = list(
        rows.order_by("pk").values(
            "pk", "status", "to", "concerning_type_id", "concerning_id", "template"
        )
    )
    deliveries: dict[int, list[dict]] = defaultdict(list)
    tally = MessageTally(made=len(rows))
    wanted = {row["pk"] for row in rows}
    for entry in ledger_entries():
        pk = entry.get("outbox_id")
        if pk in wanted:
            deliveries[pk].append(entry)
        elif pk is None:
            tally.unmatched += 1
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        sent = deliveries.get(row["pk"], [])
        status = row["status"]
        if status not in LIVE_STATUSES and not sent:
            tally.dropped += 1  # cancelled, or any status the outbox gives a dropped message
            continue
        if not sent:
            tally.never += 1
            if status in (MessageStatus.CREATED, MessageStatus.SENDING):
                tally.pending += 1
            elif status == MessageStatus.FAILED:
                tally.failed_recorded += 1
        elif len(sent) == 1:
            tally.once += 1
        else:
            tally.twice += 1
            tally.extra += len(sent) - 1
            if len({_identity(e) for e in sent}) == 1 and _identity(sent[0]):
                tally.same_identity += 1
        if sent and status == MessageStatus.FAILED:
            tally.delivered_but_failed += 1
        if row["concerning_id"]:
            key = (row["concerning_type_id"], row["concerning_id"], row["to"])
            groups[key].append({**row, "first": sent[0]["t"] if sent else None})
    # In order: no message arrives after one about the same thing made after it.
    for group in groups.values():
        for index, earlier in enumerate(group):
            if earlier["first"] is None:
                continue
            if any(
                later["first"] is not None and later["first"] < earlier["first"]
                for later in group[index + 1 :]
            ):
                tally.out_of_order += 1
    return tally


def settle(first_pk: int, timeout: float) -> int:
    """Wait until no message after ``first_pk`` waits or is "sending"; return how many do."""
    from notifications.constants import MessageStatus
    from notifications.models import Message

    deadline = time.monotonic() + timeout
    pending = 0
    while time.monotonic() < deadline:
        pending = Message.objects.filter(
            pk__gt=first_pk, status__in=(MessageStatus.CREATED, MessageStatus.SENDING)
        ).count()
        if not pending:
            time.sleep(1)  # a repeat delivery under way would land now
            return 0
        time.sleep(0.5)
    return pending


@dataclass
class RegistrationTally:
    attempted: int = 0  # reached the confirming POST
    confirmed: int = 0  # the confirming POST answered 302
    stored: int = 0
    receipts: int = 0  # the receipt page was shown
    refused: int = 0  # clearly refused (a 4xx page) and nothing stored
    lost: int = 0  # told "done" but not stored, or a server/network error and not stored
    stored_not_told: int = 0  # stored, but the resident never saw the receipt
    statuses: Counter = field(default_factory=Counter)
    failed_at: Counter = field(default_factory=Counter)  # "step answer" of flows cut short

    def line(self) -> str:
        text = (
            f"{self.stored}/{self.attempted} registrations stored, {self.confirmed} confirms "
            f"answered 302, {self.receipts} receipts shown"
        )
        if self.refused:
            text += f", {self.refused} clearly refused"
        if self.stored_not_told:
            text += f", {self.stored_not_told} stored without a receipt shown"
        if self.failed_at:
            text += ", flows cut short at " + ", ".join(
                f"{where}×{n}" for where, n in self.failed_at.most_common()
            )
        return text


def registrations_tally(results: list[tuple[int, object]]) -> RegistrationTally:
    """Compare what each resident saw with what the database holds (by their surname)."""
    from registration.models import Registration

    tally = RegistrationTally()
    names = {f"Bench{n}": n for n, _result in results}
    stored = Counter(
        Registration.objects.filter(resident__surname__in=list(names)).values_list(
            "resident__surname", flat=True
        )
    )
    for n, result in results:
        for status in result.statuses:
            tally.statuses[status] += 1
        reached = result.step in ("submit", "receipt")
        is_stored = stored.get(f"Bench{n}", 0) > 0
        tally.stored += is_stored
        last = result.statuses[-1] if result.statuses else None
        if not result.ok:
            tally.failed_at[f"{result.step} {last}"] += 1
        if not reached:
            continue
        tally.attempted += 1
        tally.confirmed += result.submitted
        tally.receipts += result.ok
        if is_stored:
            if not result.ok:
                tally.stored_not_told += 1
        elif isinstance(last, int) and 400 <= last < 500 and not result.submitted:
            tally.refused += 1
        else:
            tally.lost += 1
    return tally


def server_errors(statuses: Counter) -> int:
    return sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)


def error_lines(text: str) -> int:
    """ERROR (or worse) log lines and tracebacks in ``text`` (JSON or plain log lines)."""
    count = 0
    for line in text.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                count += json.loads(line).get("level") in ("ERROR", "CRITICAL")
                continue
        count += bool(ERROR_LINE.search(line))
    return count


# ------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------
@dataclass
class Row:
    drill: str
    server_errors: int | None = 0
    lost_registrations: int | None = 0
    lost_messages: int | None = 0
    duplicates: int | None = 0
    out_of_order: int | None = 0
    notes: list[str] = field(default_factory=list)
    allowed_5xx: int = 0  # requests in flight on a process the drill killed
    missed_own: list[str] = field(default_factory=list)  # the drill's own goals
    skipped: bool = False
    broken: str = ""  # the drill itself could not run to the end

    def missed(self) -> list[str]:
        if self.skipped:
            return []
        missed = list(self.missed_own)
        if self.broken:
            missed.append(f"drill broke: {self.broken}")
        for name, value in (
            ("lost registrations", self.lost_registrations),
            ("lost messages", self.lost_messages),
            ("duplicates", self.duplicates),
            ("out of order", self.out_of_order),
        ):
            if value:
                missed.append(name)
        if self.server_errors and self.server_errors > self.allowed_5xx:
            missed.append("5xx")
        return missed

    def cells(self) -> list[str]:
        def show(value):
            return "—" if value is None or self.skipped else str(value)

        notes = list(self.notes)
        notes += [f"MISSED: {goal}" for goal in self.missed_own]
        if self.broken:
            notes.append(f"BROKE: {self.broken}")
        return [
            self.drill,
            show(self.server_errors),
            show(self.lost_registrations),
            show(self.lost_messages),
            show(self.duplicates),
            show(self.out_of_order),
            "; ".join(notes),
        ]


def table(rows: list[Row]) -> str:
    header = ["drill", "5xx", "lost registrations", "lost messages", "duplicates", "out of order"]
    lines = [[*header, "notes"], *[row.cells() for row in rows]]
    out = []
    for index, line in enumerate(lines):
        out.append("| " + " | ".join(cell.replace("|", "/") for cell in line) + " |")
        if index == 0:
            out.append("|" + "|".join(["---"] * len(line)) + "|")
    return "\n".join(out)


# ------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------
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


def helps_tally(helped) -> tuple[int, int, int]:
    """(stored, lost, stored without the case page shown) of the help requests sent."""
    from inquiries.models import Inquiry

    names = set(
        Inquiry.objects.filter(contact_name__in=[f"Helper{n}" for n, _r in helped]).values_list(
            "contact_name", flat=True
        )
    )
    stored = lost = not_told = 0
    for n, result in helped:
        is_stored = f"Helper{n}" in names
        stored += is_stored
        last = result.statuses[-1] if result.statuses else None
        if is_stored and not result.ok:
            not_told += 1
        elif not is_stored and result.step in ("send", "case"):
            refused = isinstance(last, int) and 400 <= last < 500 and not result.submitted
            lost += not refused
    return stored, lost, not_told


# ------------------------------------------------------------------------------
# The drills
# ------------------------------------------------------------------------------
@dataclass
class Context:
    stack: Stack
    args: argparse.Namespace
    files: list

    @property
    def port(self) -> int:
        return self.stack.gunicorn.port


def drill_redis_down(ctx: Context) -> Row:
    """1. Redis stopped while residents register and ask for help; messages after it returns."""
    args = ctx.args
    residents, helpers = (5, 3) if args.short else (20, 10)
    row = Row("1. Redis stopped during submissions")
    first = message_last_pk()
    ctx.stack.redis.stop()
    log(f"   Redis stopped; {residents} residents register (3 photos), {helpers} ask for help")
    try:
        registered, helped = flows(ctx.port, residents, ctx.files, helpers=helpers)
    finally:
        ctx.stack.redis.start()
    log("   Redis is back; waiting for the messages")
    ctx.stack.ensure_up()
    settle(first, args.settle)
    regs = registrations_tally(registered)
    help_statuses = Counter(s for _n, r in helped for s in r.statuses)
    messages = messages_tally(first)
    row.server_errors = server_errors(regs.statuses) + server_errors(help_statuses)
    stored_help, lost_help, help_not_told = helps_tally(helped)
    row.lost_registrations = regs.lost + lost_help
    row.notes.append(regs.line())
    row.notes.append(
        f"help: {stored_help}/{helpers} stored ({lost_help} lost), answers "
        + " ".join(f"{s}×{n}" for s, n in sorted(help_statuses.items(), key=str))
    )
    row.notes.append(messages.line())
    if regs.stored_not_told:
        row.missed_own.append(f"stored registrations without a receipt: {regs.stored_not_told}")
    if help_not_told:
        row.missed_own.append(f"stored help requests without their page: {help_not_told}")
    _messages_into(row, messages)
    return row


def _messages_into(row: Row, messages: MessageTally) -> None:
    row.lost_messages = messages.lost
    row.duplicates = messages.extra
    row.out_of_order = messages.out_of_order
    if messages.delivered_but_failed:
        row.missed_own.append(f"delivered but recorded failed: {messages.delivered_but_failed}")


def _reminders_in_background(ctx: Context) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_due_reminders"],
        cwd=ROOT,
        env=ctx.stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _under_way(first: int) -> tuple[int, int]:
    """(messages still waiting or sending, messages sent) after ``first``."""
    from notifications.constants import MessageStatus
    from notifications.models import Message

    rows = Counter(Message.objects.filter(pk__gt=first).values_list("status", flat=True))
    return rows[MessageStatus.CREATED] + rows[MessageStatus.SENDING], rows[MessageStatus.SENT]


def _kill_during_reminders(ctx: Context, row: Row, *, kills: int, how: str, count: int) -> None:
    """Run ``send_due_reminders`` over ``count`` seeded residents and kill workers meanwhile."""
    from notifications.constants import MessageStatus
    from notifications.models import Message

    seed_due(count, visa_in_days=7)
    first = message_last_pk()
    run = _reminders_in_background(ctx)
    # The run queues its messages in one transaction; delivery starts when it commits.
    output, _ = run.communicate(timeout=300)
    made = Message.objects.filter(pk__gt=first).count()
    done_kills = 0
    sending_at_kill = 0
    workers = ctx.stack.workers
    deadline = time.monotonic() + 120
    for index in range(kills):
        # Spread the kills over the run: after 1/(k+1), 2/(k+1) … of the messages went out.
        goal = made * (index + 1) / (kills + 1)
        while time.monotonic() < deadline and _under_way(first)[1] < goal:
            time.sleep(0.05)
        if not _under_way(first)[0]:
            break  # nothing left to interrupt
        ready = [w for w in workers if w.is_ready()] or workers
        target = ready[index % len(ready)]
        sending_at_kill += Message.objects.filter(
            pk__gt=first, status=MessageStatus.SENDING
        ).count()
        if how == "worker":
            target.kill9()
            target.start(wait=False)
        else:
            for pid in target.children():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # a child of our own worker, by its id
        done_kills += 1
    ctx.stack.ensure_up()
    log(f"   {done_kills} kills; reminders queued; waiting for the messages")
    pending = settle(first, ctx.args.settle)
    messages = messages_tally(first)
    _messages_into(row, messages)
    what = "worker (process group)" if how == "worker" else "pool children of a worker"
    row.notes.append(
        f"{what} killed {done_kills}× during a run of {messages.made} messages "
        f"({sending_at_kill} 'sending' in all workers at the kills)"
    )
    row.notes.append(messages.line())
    if pending:
        row.notes.append(f"{pending} still waiting after {ctx.args.settle:.0f} s")
    if run.returncode:
        row.missed_own.append(f"send_due_reminders exited {run.returncode}: {output[-200:]}")


def drill_worker_killed(ctx: Context) -> Row:
    """2. A Celery worker killed with kill -9 several times during a reminder run."""
    row = Row("2. worker kill -9 during reminders")
    count, kills = (60, 2) if ctx.args.short else (400, 4)
    log(f"   {count} residents due; killing a worker {kills}× during the run")
    _kill_during_reminders(ctx, row, kills=kills, how="worker", count=count)
    return row


def drill_children_killed(ctx: Context) -> Row:
    """3. Pool children (prefork) killed several times during a reminder run."""
    row = Row("3. pool children kill -9 during reminders")
    count, kills = (60, 3) if ctx.args.short else (400, 6)
    log(f"   {count} residents due; killing pool children {kills}× during the run")
    _kill_during_reminders(ctx, row, kills=kills, how="children", count=count)
    return row


def drill_db_terminated(ctx: Context) -> Row:
    """4. Every database connection terminated several times during submissions."""
    from django.db import connection

    args = ctx.args
    seconds, cuts, parallel = (20, 3, 3) if args.short else (60, 5, 5)
    row = Row("4. DB connections terminated")
    first = message_last_pk()
    deadline = time.monotonic() + seconds
    results: list = []
    lock = threading.Lock()

    def resident():
        while time.monotonic() < deadline:
            registered, _ = flows(ctx.port, 1, ctx.files, parallel=1)
            with lock:
                results.extend(registered)

    threads = [threading.Thread(target=resident, daemon=True) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    terminated = 0
    for index in range(cuts):
        time.sleep(seconds / (cuts + 1) if index == 0 else seconds / cuts * 0.9)
        if time.monotonic() >= deadline:
            break
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            terminated += cursor.fetchone()[0]
    for thread in threads:
        thread.join(seconds + 300)
    log(f"   {terminated} connections terminated in {cuts} cuts; waiting for the messages")
    ctx.stack.ensure_up()
    pending = settle(first, args.settle)
    regs = registrations_tally(results)
    messages = messages_tally(first)
    row.server_errors = server_errors(regs.statuses)
    row.lost_registrations = regs.lost
    _messages_into(row, messages)
    row.notes.append(f"{cuts} cuts ({terminated} connections) in {seconds} s")
    row.notes.append(regs.line())
    row.notes.append(messages.line())
    if regs.stored_not_told:
        row.missed_own.append(f"stored registrations without a receipt: {regs.stored_not_told}")
    if pending:
        row.notes.append(f"{pending} still waiting after {args.settle:.0f} s")
    return row


def drill_overlapping_runs(ctx: Context) -> Row:
    """5. Two reminder runs at once: duplicates, ERROR lines in their logs."""
    row = Row("5. two reminder runs at once")
    expired, expiring = (40, 20) if ctx.args.short else (200, 100)
    seed_due(expired, visa_in_days=-1)
    seed_due(expiring, visa_in_days=30)
    first = message_last_pk()
    offsets = {w.name: w.log_size() for w in ctx.stack.workers}
    log(f"   {expired} visas expired + {expiring} expiring; two send_due_reminders at once")
    runs = [_reminders_in_background(ctx) for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    pending = settle(first, ctx.args.settle)
    messages = messages_tally(first)
    _messages_into(row, messages)
    (VAR / "reminders-1.log").write_text(outputs[0])
    (VAR / "reminders-2.log").write_text(outputs[1])
    run_errors = sum(error_lines(text) for text in outputs)
    worker_errors = sum(error_lines(w.log_since(offsets[w.name])) for w in ctx.stack.workers)
    row.notes.append(messages.line())
    row.notes.append(
        f"ERROR lines: {run_errors} in the two runs' logs, {worker_errors} in the workers' "
        f"(exit {runs[0].returncode}/{runs[1].returncode})"
    )
    if run_errors:
        row.missed_own.append(f"ERROR lines from overlapping runs: {run_errors}")
    if pending:
        row.notes.append(f"{pending} still waiting after {ctx.args.settle:.0f} s")
    return row


def drill_ordering(ctx: Context) -> Row:
    """7. Order: a registration's messages arrive in the order they were made.

    Residents register while the workers are stopped (their confirmations wait in Redis);
    Redis restarts and loses them, as a crash does; the workers come back and the officer
    marks every registration registered at once. "Your stay is registered" must not arrive
    before the confirmation of receipt (which may instead be dropped with a reason).
    """
    from registration.models import Registration
    from registration.services import registration_mark_registered

    count = 5 if ctx.args.short else 15
    row = Row("7. order of a registration's messages")
    first = message_last_pk()
    # The sweep has not run yet when the officer acts (production: every 2 minutes).
    background = [*ctx.stack.workers, ctx.stack.beat]
    for process in background:
        process.stop()
    log(f"   workers and beat stopped; {count} residents register; Redis restarts (tasks lost)")
    registered, _ = flows(ctx.port, count, ctx.files)
    ctx.stack.redis.stop()
    ctx.stack.redis.start()
    actor = officer()
    names = [f"Bench{n}" for n, _r in registered]
    marked = 0
    for registration in Registration.objects.filter(resident__surname__in=names):
        registration_mark_registered(registration=registration, actor=actor)
        marked += 1
    log(f"   {marked} marked registered; workers and beat back; waiting for the messages")
    for process in ctx.stack.workers:
        process.start(wait=False)
    for process in ctx.stack.workers:
        process.wait_ready()
    ctx.stack.beat.start()
    pending = settle(first, ctx.args.settle)
    regs = registrations_tally(registered)
    messages = messages_tally(first)
    row.server_errors = server_errors(regs.statuses)
    row.lost_registrations = regs.lost
    _messages_into(row, messages)
    row.notes.append(regs.line() + f", {marked} marked registered")
    row.notes.append(messages.line())
    if pending:
        row.notes.append(f"{pending} still waiting after {ctx.args.settle:.0f} s")
    return row


def drill_shutdown(ctx: Context) -> Row:
    """6. SIGTERM to gunicorn during uploads (bench/drill_shutdown.py when it exists)."""
    row = Row("6. SIGTERM to gunicorn during uploads")
    count = 6 if ctx.args.short else 12
    old = ctx.stack.gunicorn
    port = old.port
    first = message_last_pk()
    results: list = []
    lock = threading.Lock()

    def resident(delay: float):
        time.sleep(delay)
        registered, _ = flows(port, 1, ctx.files, parallel=1, think=0.4)
        with lock:
            results.extend(registered)

    log(f"   {count} residents register (0.4 s to fill the form); SIGTERM to gunicorn meanwhile")
    threads = [
        threading.Thread(target=resident, args=(i * 0.25,), daemon=True) for i in range(count)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    old.process.send_signal(signal.SIGTERM)  # our own gunicorn master, by its id
    stopped_at = time.monotonic()
    old.process.wait(60)
    stopping = time.monotonic() - stopped_at
    for thread in threads:
        thread.join(300)
    old.process = None
    old.log.close()
    # The next drills need a server again: a new one on the same port.
    new = Gunicorn(ctx.stack.env, old.log_path)
    new.port = port
    new.env["GUNICORN_BIND"] = f"{LOOPBACK}:{port}"
    new.start()
    ctx.stack.gunicorn = new
    settle(first, ctx.args.settle)
    regs = registrations_tally(results)
    messages = messages_tally(first)
    resets = sum(regs.statuses[name] for name in NETWORK_ERRORS)
    refused = regs.statuses["ConnectionRefusedError"]
    row.server_errors = server_errors(regs.statuses)
    row.lost_registrations = regs.lost
    _messages_into(row, messages)
    row.notes.append(f"gunicorn stopped {stopping:.1f} s after SIGTERM")
    row.notes.append(f"{resets} requests reset, {refused} refused (server gone)")
    row.notes.append(regs.line())
    if regs.stored_not_told:
        row.missed_own.append(f"stored registrations without a receipt: {regs.stored_not_told}")
    return row


def external(
    script: Path, args: list[str], timeout: float, log_path: Path
) -> tuple[int, dict, str]:
    """Run another drill script; return (exit status, its last JSON line, its last line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    with open(log_path, "w") as output:
        done = subprocess.run(  # noqa: S603 - a script of this repository
            [sys.executable, str(script), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=output,
            text=True,
            timeout=timeout,
        )
        output.write(done.stdout)
    found: dict = {}
    for line in reversed(done.stdout.strip().splitlines()):
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                found = value
                break
    last = (done.stdout.strip().splitlines() or [""])[-1][:200]
    return done.returncode, found, last


def _options(script: Path) -> str:
    with contextlib.suppress(Exception):
        return subprocess.run(  # noqa: S603 - a script of this repository
            [sys.executable, str(script), "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    return ""


KEYS = {
    "server_errors": ("5xx", "server_errors", "errors_5xx"),
    "lost_registrations": ("lost_registrations", "registrations_lost"),
    "lost_messages": ("lost_messages", "messages_lost", "lost"),
    "duplicates": ("duplicates", "duplicated"),
    "out_of_order": ("out_of_order", "disorder"),
}


def row_from_external(name: str, rc: int, found: dict, last: str, log_path: Path) -> Row:
    row = Row(name)
    for attribute, keys in KEYS.items():
        value = next((found[k] for k in keys if k in found), None)
        setattr(row, attribute, value if isinstance(value, int) else None)
    if "allowed_5xx" in found or "in_flight_killed" in found:
        row.allowed_5xx = int(found.get("allowed_5xx", found.get("in_flight_killed", 0)))
    shown = {k: v for k, v in found.items() if not any(k in keys for keys in KEYS.values())}
    if shown:
        row.notes.append(", ".join(f"{k} {v}" for k, v in shown.items())[:300])
    elif not found:
        row.notes.append(f"no JSON summary; last line: {last}")
    row.notes.append(f"exit {rc}, log {log_path.relative_to(ROOT)}")
    if rc:
        row.missed_own.append(f"{log_path.stem} exited {rc}")
    return row


def drill_shutdown_external(args) -> Row:
    script = ROOT / "bench" / "drill_shutdown.py"
    options = _options(script)
    argv = ["--short"] if args.short and "--short" in options else []
    argv += ["--json"] if "--json" in options else []
    log_path = VAR / "drill_shutdown.log"
    rc, found, last = external(script, argv, 900, log_path)
    return row_from_external(
        "6. SIGTERM to gunicorn (bench/drill_shutdown.py)", rc, found, last, log_path
    )


def drill_soak(args) -> Row:
    """8. ``make run`` soak (bench/soak_embedded.py, written with the embedded broker's fix)."""
    script = ROOT / "bench" / "soak_embedded.py"
    name = "8. `make run` soak"
    if not script.exists():
        return Row(name, skipped=True, notes=["skipped: bench/soak_embedded.py does not exist"])
    if args.soak_minutes <= 0:
        return Row(name, skipped=True, notes=["skipped: --soak-minutes 0 (the short form)"])
    options = _options(script)
    argv = ["--minutes", f"{args.soak_minutes:g}"]
    argv += ["--json"] if "--json" in options else []
    log_path = VAR / "soak_embedded.log"
    rc, found, last = external(script, argv, args.soak_minutes * 60 + 900, log_path)
    row = row_from_external(f"{name}, {args.soak_minutes:g} min", rc, found, last, log_path)
    return row


DRILLS = {
    1: drill_redis_down,
    2: drill_worker_killed,
    3: drill_children_killed,
    4: drill_db_terminated,
    5: drill_overlapping_runs,
    7: drill_ordering,
}


def guarded(number: int, function, *args) -> Row:
    """Run one drill; an exception becomes a row that says so instead of ending the run."""
    name = (function.__doc__ or "").strip().split("\n")[0].rstrip(".")
    log(f"drill {name}")
    started = time.monotonic()
    try:
        row = function(*args)
    except Exception as error:
        import traceback

        traceback.print_exc()
        row = Row(
            name,
            None,
            None,
            None,
            None,
            None,
            broken=f"{type(error).__name__}: {error}"[:300],
        )
    row.notes.append(f"{time.monotonic() - started:.0f} s")
    return row


# ------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="small counts: under 2 minutes")
    parser.add_argument("--only", default="", help="comma-separated drill numbers, e.g. 1,4")
    parser.add_argument(
        "--report-only", action="store_true", help="exit 0 even if a goal is missed"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--soak-minutes", type=float, default=None, help="minutes of drill 8")
    parser.add_argument("--settle", type=float, default=None, help="seconds to wait for messages")
    parser.add_argument("--web-workers", type=int, default=None, help="gunicorn processes")
    args = parser.parse_args()
    if args.soak_minutes is None:
        args.soak_minutes = 0 if args.short else 30
    if args.settle is None:
        args.settle = 30 if args.short else 90
    wanted = {int(x) for x in args.only.split(",") if x.strip()} or {1, 2, 3, 4, 5, 6, 7, 8}
    started = time.monotonic()

    VAR.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(LEDGER, ignore_errors=True)
    LEDGER.mkdir()
    for old in VAR.glob("*.log"):
        old.unlink()
    redis = RedisServer(VAR / "redis.log")
    url = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    env = child_env(url, redis_url=redis.url, var=VAR, settings=SETTINGS)
    compressed = ("3", "6", "2") if args.short else ("10", "20", "5")
    env.update(
        {
            "BENCH_KEEP_RATE_LIMITS": "1",
            "BENCH_LOG_LEVEL": "INFO",
            "DRILL_LEDGER_DIR": str(LEDGER),
            "DRILL_SWEEP_AFTER": compressed[0],
            "DRILL_SENDING_LEASE": compressed[1],
            "DRILL_SWEEP_EVERY": compressed[2],
            "WEB_CONCURRENCY": str(args.web_workers or (2 if args.short else 3)),
        }
    )
    os.environ.update(env)
    os.environ["BENCH_LOG_LEVEL"] = "WARNING"  # the drill's own process: only what matters
    stack = Stack(env=env, redis=redis)
    rows: list[Row] = []
    local = [n for n in (1, 2, 3, 4, 5, 6, 7) if n in wanted]
    shutdown_script = (ROOT / "bench" / "drill_shutdown.py").exists()
    needs_stack = [n for n in local if not (n == 6 and shutdown_script)]
    postgres = False
    try:
        if needs_stack:
            if not shutil.which("redis-server"):
                log("redis-server is required (apt-get install redis-server); stopping.")
                return 2
            if not pg_setup(PG_DB):
                log("PostgreSQL is required on 127.0.0.1:5432 (user postgres).")
                return 2
            postgres = True
            redis.start()
            log(f"database {PG_DB}, redis-server on port {redis.port}; migrating")
            manage(env, "migrate", "--no-input", "-v", "0")
            manage(env, "collectstatic", "--no-input", "-v", "0")
            import django

            django.setup()
            seed_stations(len(STATIONS))
            photos = phone_photos() if not args.short else []
            files = registration_files(not args.short, photos, small_photo())
            stack.gunicorn = Gunicorn(env, VAR / "gunicorn.log")
            stack.workers = [worker("drill-w1", env), worker("drill-w2", env)]
            stack.beat = beat(env)
            for process in [*stack.workers, stack.beat]:
                process.start(wait=False)
            stack.gunicorn.start()
            for process in [*stack.workers, stack.beat]:
                process.wait_ready()
            log(
                f"gunicorn {env['WEB_CONCURRENCY']}×4 on port {stack.gunicorn.port}, "
                "2 workers × 2, beat; setup took "
                f"{time.monotonic() - started:.0f} s"
            )
            ctx = Context(stack=stack, args=args, files=files)
            for number in (1, 2, 3, 4, 5, 7, 6):
                if number not in local or (number == 6 and shutdown_script):
                    continue
                seen = len(stack.restarts)
                row = guarded(number, DRILLS.get(number, drill_shutdown), ctx)
                with contextlib.suppress(Exception):
                    stack.ensure_up()
                row.notes += stack.restarts[seen:]  # what died on its own during the drill
                rows.append(row)
    finally:
        stack.stop()
    if 6 in wanted and shutdown_script:
        rows.append(guarded(6, drill_shutdown_external, args))
    if 8 in wanted:
        rows.append(guarded(8, drill_soak, args))
    rows.sort(key=lambda row: row.drill)

    elapsed = time.monotonic() - started
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = (
        f"Linli fault drills{' (--short)' if args.short else ''}, {stamp}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {SETTINGS} on PostgreSQL "
        f"{PG_DB} + own redis-server; sweep every {compressed[2]} s, after {compressed[0]} s, "
        f"'sending' stuck after {compressed[1]} s; total {elapsed:.0f} s"
    )
    output = head + "\n\n" + table(rows)
    missed = [(row.drill, goal) for row in rows for goal in row.missed()]
    if missed:
        output += "\n\nMissed goals:\n" + "\n".join(f"- {d}: {g}" for d, g in missed)
    else:
        output += "\n\nEvery goal met."
    print("\n" + output, flush=True)
    (VAR / "results.md").write_text(output + "\n")
    if postgres and not args.keep:
        from django.db import connections

        connections.close_all()
        pg_drop(PG_DB)
    if missed and not args.report_only:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
