"""
``make drill``: Linli's fault drills. Each drill breaks one part the way production breaks
it — Redis stops, a worker or its pool children die with ``kill -9``, every database
connection is cut, two reminder runs overlap, gunicorn gets SIGTERM, Redis restarts with
tasks in it, the beat that sends is killed while another waits — while residents register and messages go out, then counts what a resident
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
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Gunicorn, log  # noqa: E402
from bench.drills import LEDGER, PG_DB, SETTINGS, STATIONS, VAR  # noqa: E402
from bench.drills.beat import drill_beat_failover  # noqa: E402
from bench.drills.external import drill_shutdown_external, drill_soak  # noqa: E402
from bench.drills.reminders import (  # noqa: E402
    drill_children_killed,
    drill_overlapping_runs,
    drill_worker_killed,
)
from bench.drills.report import Row, table  # noqa: E402
from bench.drills.stack import Context, Stack, beat, worker  # noqa: E402
from bench.drills.submissions import (  # noqa: E402
    drill_db_terminated,
    drill_ordering,
    drill_redis_down,
    drill_shutdown,
)
from bench.environment import child_env, manage, pg_drop, pg_setup  # noqa: E402
from bench.journeys import small_photo  # noqa: E402
from bench.processes import RedisServer  # noqa: E402
from bench.seeds import phone_photos, registration_files, seed_stations  # noqa: E402

DRILLS = {
    1: drill_redis_down,
    2: drill_worker_killed,
    3: drill_children_killed,
    4: drill_db_terminated,
    5: drill_overlapping_runs,
    7: drill_ordering,
    9: drill_beat_failover,
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
    wanted = {int(x) for x in args.only.split(",") if x.strip()} or {1, 2, 3, 4, 5, 6, 7, 8, 9}
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
    local = [n for n in (1, 2, 3, 4, 5, 6, 7, 9) if n in wanted]
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
            for number in (1, 2, 3, 4, 5, 7, 9, 6):
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
