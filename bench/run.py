"""
``make bench``: Linli's benchmark. Prints one table of ratios against baselines measured in
the same run (absolute times on a shared 2-core machine are noise; they are printed beside).

Runs on the production settings (config.settings.bench) with gunicorn from the pinned
requirements on a free loopback port, a dedicated PostgreSQL database (``linli_bench``,
created and dropped here) and Redis database 14. Without PostgreSQL it runs what it can on
SQLite and says so. See bench/README.md for what each figure means.

    .venv/bin/python bench/run.py [--rows 1000000] [--quick] [--keep] [--no-load] [--only 5,6]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.common import Gunicorn, log  # noqa: E402
from bench.environment import (  # noqa: E402
    PG_DB,
    VAR,
    child_env,
    manage,
    pg_drop,
    pg_setup,
    redis_flush,
)
from bench.figures import (  # noqa: E402
    Row,
    fig_billboard,
    fig_changelist,
    fig_qr,
    fig_reminders,
    fig_station,
    fig_submit,
    guarded,
)
from bench.journeys import small_photo  # noqa: E402
from bench.seeds import STATION, phone_photos, seed_stations  # noqa: E402


# ------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------
def table(rows: list[Row]) -> str:
    header = ["figure", "ratio", "goal", "", "absolute (for the record)"]
    lines = [header, *[row.line() for row in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    out = []
    for index, line in enumerate(lines):
        cells = [line[i].ljust(widths[i]) for i in range(4)] + [line[4]]
        out.append("| " + " | ".join(cells) + " |")
        if index == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in [*widths, 26]) + "|")
    return "\n".join(out)


LOAD_AT_START = os.getloadavg()
# Without PostgreSQL: the load test's file, as this process's settings may already name it.
SQLITE = load.SQLITE


def machine() -> str:
    start, end = (f"{x[0]:.1f}" for x in (LOAD_AT_START, os.getloadavg()))
    return (
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, load average {start} at the start, {end} at the end"
    )


def fig_load(args) -> tuple[Row, str]:
    """
    Figure 7, ``bench/load.py --compare``: the load test on the code of
    load.BASELINE_COMMIT (issue 19's "today") with every photo full size, then on this tree
    as phones send them (load.FULL_SIZE_SHARE full size), each on a fresh database and
    gunicorn, one right after the other; the server's CPU-seconds per stored registration of
    the second ÷ the first. A clone without that commit gets a "not measured" row.
    """
    name = "7. load test CPU-s per registration: phones today ÷ all full size at " + (
        load.BASELINE_COMMIT
    )
    goal = f"≤ {load.CPU_GOAL}"
    baseline_root, why = load.baseline_checkout()
    if baseline_root is None:
        log(f"7. load test: baseline not measured: {why}")
        return Row(name, None, goal, None, f"not measured: {why}"), ""
    # Residents only: visitors' CPU could only be taken off with an estimate measured apart
    # (5 s of browsing alone), which made up half the total when residents were slow and
    # moved the ratio by a third between runs. Each side's CPU is then its registrations'.
    settings = argparse.Namespace(seconds=args.load_seconds, residents=50, browsers=0)
    try:
        reports = [
            load.measure(settings, baseline_root, 1.0),
            load.measure(settings, ROOT, load.FULL_SIZE_SHARE),
        ]
    except Exception as error:
        log(f"7. load test failed: {type(error).__name__}: {error}")
        return Row(name, None, goal, False, f"failed: {type(error).__name__}: {error}"), ""
    before, after = (load.cpu_per_registration(report) for report in reports)
    ratio = after / before if before and after is not None else None
    row = Row(
        name,
        ratio,
        goal,
        None if ratio is None else ratio <= load.CPU_GOAL and all(map(load.passed, reports)),
        f"{after or 0:.3f} vs {before or 0:.3f} CPU-s ({reports[1]['stored']} vs "
        f"{reports[0]['stored']} stored; {load.FULL_SIZE_SHARE:.0%} full size)",
    )
    summaries = [f"(code in {report['root']})\n" + load.summary(report) for report in reports]
    return row, "\n\n".join(summaries)


def _figures(value: str) -> set[int]:
    try:
        figures = {int(part) for part in value.split(",") if part.strip()}
    except ValueError:
        message = f"--only takes figure numbers like 6 or 1,2: {value!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not figures or not figures <= {1, 2, 3, 4, 5, 6}:
        raise argparse.ArgumentTypeError(f"--only takes figures 1 to 6, not {value!r}")
    return figures


def server_figures(port, args, wanted, big_photos, small, static_path) -> list[Row]:
    """Figures 1, 2 and 4 (those of ``wanted``), against the running gunicorn on ``port``."""
    from django.templatetags.static import static

    rows = []
    if 1 in wanted:
        log("1. station page vs static file")
        stylesheet = static("css/linli.css")  # the station page's baseline
        rows.append(
            guarded("1. station page ÷ static file", "≥ 0.8", fig_station, port, args, stylesheet)
        )
    if 2 in wanted:
        log("2. QR PNG vs static file")
        rows.append(guarded("2. QR PNG ÷ static file", "≥ 0.8", fig_qr, port, args, static_path))
    if 4 in wanted:
        log("4. registration submits")
        rows.append(
            guarded(
                "4. submit p95 with ÷ without photos",
                "≤ 4",
                fig_submit,
                port,
                args,
                big_photos,
                small,
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="registrations for 5 and 6")
    parser.add_argument("--quick", action="store_true", help="small sizes (a quick check)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--no-load", action="store_true", help="skip the two 60 s load tests")
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument(
        "--only",
        type=_figures,
        default=None,
        help="only these figures, e.g. 6 or 1,2 (6 alone still generates the rows; no load test)",
    )
    args = parser.parse_args()
    wanted = args.only or {1, 2, 3, 4, 5, 6}
    if args.only:
        args.no_load = True
    args.rounds, args.seconds, args.threads = (1, 2.0, 8) if args.quick else (3, 4.0, 8)
    args.submits = 6 if args.quick else 30
    args.repeat = 3 if args.quick else 7
    if args.quick:
        args.rows = min(args.rows, 20_000)
        args.load_seconds = min(args.load_seconds, 10)
    started = time.monotonic()
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "static-extra").mkdir(exist_ok=True)

    load_summary, load_row = "", None
    if not args.no_load:
        # First, on their own fresh databases (the bench database is made after them).
        load_row, load_summary = fig_load(args)

    postgres = pg_setup()
    database_url = (
        f"postgres://postgres@127.0.0.1:5432/{PG_DB}" if postgres else f"sqlite:///{SQLITE}"
    )
    if not postgres:
        SQLITE.unlink(missing_ok=True)
    if not redis_flush():
        log("Redis is required (cache, rate limits, broker); stopping.")
        return 2
    env = child_env(database_url)
    os.environ.update(env)
    log(f"database: {'PostgreSQL ' + PG_DB if postgres else 'SQLite (PostgreSQL not reachable)'}")
    manage(env, "migrate", "--no-input", "-v", "0")

    import django

    django.setup()
    from stations.qr import qr_png, station_url

    seed_stations()
    # The whitenoise baseline serves exactly the bytes of the cached QR code.
    (VAR / "static-extra" / "bench").mkdir(exist_ok=True)
    (VAR / "static-extra" / "bench" / "qr.png").write_bytes(
        qr_png(station_url(STATION, "register"), 512)
    )
    manage(env, "collectstatic", "--no-input", "-v", "0", "--clear")
    from django.templatetags.static import static

    static_path = static("bench/qr.png")

    rows: list[Row] = []
    gunicorn = Gunicorn(env, VAR / "gunicorn.log")
    if wanted & {1, 2, 4}:
        big_photos = phone_photos()
        small = small_photo()
        log(
            f"gunicorn: {gunicorn.workers} workers × "
            f"{os.environ.get('GUNICORN_THREADS', 4)} threads"
        )
        gunicorn.start()
        try:
            rows += server_figures(gunicorn.port, args, wanted, big_photos, small, static_path)
        finally:
            gunicorn.stop()
    if 3 in wanted:
        log("3. billboard")
        rows.insert(
            min(2, len(rows)),
            guarded("3. A3 billboard ÷ bare PDF", "≤ 2", fig_billboard, args.repeat + 3),
        )
    if postgres and wanted & {5, 6}:
        if 5 in wanted:
            log(f"5. admin changelist, generating {args.rows:,} registrations")
            rows.append(guarded("5. admin changelist", "≤ 1.5", fig_changelist, args))
        else:
            from bench import datagen

            log(f"generating {args.rows:,} registrations")
            datagen.registrations_add(args.rows, log=log)
        if 6 in wanted:
            log("6. reminders")
            try:
                rows += fig_reminders(env, args)
            except Exception as error:
                rows.append(Row("6. send_due_reminders", None, "≤ 3", False, f"failed: {error}"))
    elif wanted & {5, 6}:
        for name in ("5. admin changelist at 1,000,000 ÷ 1,000", "6. send_due_reminders ÷ raw SQL"):
            rows.append(Row(name, None, "", None, "skipped: PostgreSQL not reachable (SQLite run)"))

    if load_row:
        rows.append(load_row)
    elapsed = time.monotonic() - started
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes = [
        f"Linli bench, {stamp}, {machine()}, "
        f"{'PostgreSQL' if postgres else 'SQLite'} + Redis, gunicorn {gunicorn.workers}×"
        f"{os.environ.get('GUNICORN_THREADS', 4)} gthread, config.settings.bench "
        f"(production + raised rate limits); total {elapsed / 60:.1f} min"
        + (" (--quick: small sizes, not the real figures)" if args.quick else ""),
    ]
    output = "\n".join([*notes, "", table(rows)])
    if load_summary:
        output += "\n\n" + load_summary
    print("\n" + output)
    (VAR / "results.md").write_text(output + "\n")
    log(f"written to {VAR / 'results.md'}")
    if postgres and not args.keep:
        from django.db import connections

        connections.close_all()
        pg_drop()
    redis_flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
