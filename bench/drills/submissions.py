"""
Drills while residents submit: 1 Redis stopped, 4 every database connection cut,
6 SIGTERM to gunicorn, 7 the order of a registration's messages.

The project's modules are imported inside the functions: they run after ``django.setup()``,
which the command (bench/run.py, bench/drill.py) calls once the environment is set.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter

from bench.common import LOOPBACK, Gunicorn, log
from bench.drills.report import Row, messages_into
from bench.drills.residents import flows, officer
from bench.drills.stack import Context
from bench.drills.tally import (
    helps_tally,
    message_last_pk,
    messages_tally,
    registrations_tally,
    server_errors,
    settle,
)

NETWORK_ERRORS = ("ConnectionResetError", "RemoteDisconnected", "BrokenPipeError")


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
    messages_into(row, messages)
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
    messages_into(row, messages)
    row.notes.append(f"{cuts} cuts ({terminated} connections) in {seconds} s")
    row.notes.append(regs.line())
    row.notes.append(messages.line())
    if regs.stored_not_told:
        row.missed_own.append(f"stored registrations without a receipt: {regs.stored_not_told}")
    if pending:
        row.notes.append(f"{pending} still waiting after {args.settle:.0f} s")
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
    messages_into(row, messages)
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
    messages_into(row, messages)
    row.notes.append(f"gunicorn stopped {stopping:.1f} s after SIGTERM")
    row.notes.append(f"{resets} requests reset, {refused} refused (server gone)")
    row.notes.append(regs.line())
    if regs.stored_not_told:
        row.missed_own.append(f"stored registrations without a receipt: {regs.stored_not_told}")
    return row
