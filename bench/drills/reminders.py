"""
Drills during reminder runs: 2 a worker killed with kill -9, 3 its pool children killed,
5 two runs of ``send_due_reminders`` at once.

The project's modules are imported inside the functions: they run after ``django.setup()``,
which the command (bench/run.py, bench/drill.py) calls once the environment is set.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from bench.common import ROOT, log
from bench.drills import VAR
from bench.drills.report import Row, messages_into
from bench.drills.residents import seed_due
from bench.drills.stack import Context
from bench.drills.tally import error_lines, message_last_pk, messages_tally, settle


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
    messages_into(row, messages)
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
    messages_into(row, messages)
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
