"""
The load test: residents registering with phone photos while others browse station pages.

``residents`` simulated residents (default 50), each with its own session, CSRF token and
client address, register through the real multi-step form (form → answers with photos →
review page and its thumbnails → confirm → receipt) again and again for ``seconds``; at the
same time ``browsers`` visitors read station pages, their QR codes and the stylesheet.
Nobody starts anything new after ``seconds``; flows under way finish (bounded by the client
timeout). Result: zero 5xx, registrations stored == successful submits, p50/p95 latencies.

Run by ``make bench`` (bench/run.py) or by hand, which sets up its own database and server:

    .venv/bin/python bench/load.py [--seconds 60] [--residents 50] [--browsers 10]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Client, Gunicorn, percentile  # noqa: E402
from bench.environment import (  # noqa: E402
    PG_DB,
    VAR,
    child_env,
    manage,
    pg_drop,
    pg_setup,
    redis_flush,
)
from bench.journeys import register, small_photo  # noqa: E402
from bench.seeds import phone_photos, registration_files, seed_stations  # noqa: E402

CLIENT_TIMEOUT = 180  # seconds; a request slower than this counts as an error


def _registrations_stored() -> tuple[int, int]:
    """(registrations, photos that belong to a registration) in the database."""
    from registration.models import Document, Registration

    return (
        Registration.objects.count(),
        Document.objects.filter(registration__isnull=False).count(),
    )


def run(
    port: int,
    *,
    seconds: float,
    residents: int,
    browsers: int,
    files: list,
    station_codes: list[str],
    count=_registrations_stored,
) -> dict:
    """Run the load test against gunicorn on ``port``; return what happened."""
    before, photos_before = count()
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    numbers = itertools.count(1)
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    report = {"submitted": 0, "failed_flows": defaultdict(int), "exceptions": 0}

    def resident(index: int):
        while time.monotonic() < deadline:
            n = next(numbers)
            client = Client(port, client_ip=f"10.1.{index}.{n % 250 + 1}", timeout=CLIENT_TIMEOUT)
            code = station_codes[n % len(station_codes)]
            result = register(client, code, n, files, thumbnails=True, think=0.2)
            client.close()
            with lock:
                for step, spent in result.timings.items():
                    latencies[step].append(spent)
                for status in result.statuses:
                    statuses["registration"][status] += 1
                # A confirm answered 302 stored a registration (even if the receipt failed).
                report["submitted"] += result.submitted
                if not result.ok:
                    last = result.statuses[-1] if result.statuses else "?"
                    report["failed_flows"][f"{result.step}:{last}"] += 1

    def browser(index: int):
        client = Client(port, client_ip=f"10.2.{index}.9", timeout=CLIENT_TIMEOUT)
        for n in itertools.count():
            if time.monotonic() >= deadline or n > 100_000:
                break
            code = station_codes[n % len(station_codes)]
            for kind, path in (
                ("station page", f"/s/{code}/"),
                ("QR PNG", f"/s/{code}/register/qr.png"),
            ):
                try:
                    response = client.get(path)
                except OSError:
                    with lock:
                        report["exceptions"] += 1
                    continue
                with lock:
                    statuses["browsing"][response.status] += 1
                    latencies[kind].append(response.seconds)
            time.sleep(0.1)
        client.close()

    threads = [threading.Thread(target=resident, args=(i,), daemon=True) for i in range(residents)]
    threads += [threading.Thread(target=browser, args=(i,), daemon=True) for i in range(browsers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 4 * CLIENT_TIMEOUT)
    report["seconds"] = time.monotonic() - started
    after, photos_after = count()
    report["stored"] = after - before
    report["photos"] = photos_after - photos_before
    report["photos_per_submit"] = len(files)
    report["latencies"] = dict(latencies)
    report["statuses"] = {k: dict(v) for k, v in statuses.items()}
    report["server_errors"] = sum(
        n
        for group in statuses.values()
        for s, n in group.items()
        if isinstance(s, int) and s >= 500
    )
    report["residents"], report["browsers"], report["load_seconds"] = residents, browsers, seconds
    report["failed_flows"] = dict(report["failed_flows"])
    return report


def passed(report: dict) -> bool:
    """No 5xx; one stored registration per successful submit, each with all its photos."""
    return (
        report["server_errors"] == 0
        and report["stored"] == report["submitted"]
        and report["photos"] == report["stored"] * report["photos_per_submit"]
    )


def summary(report: dict) -> str:
    """The load test's result as a few Markdown lines."""
    ok = passed(report)
    lines = [
        f"Load test: {report['residents']} residents registering with two ~4 MB photos + "
        f"{report['browsers']} visitors browsing station pages, {report['load_seconds']:.0f} s "
        f"(all flows finished after {report['seconds']:.0f} s): "
        f"**{'PASS' if ok else 'FAIL'}** — {report['server_errors']} responses 5xx, "
        f"{report['stored']} registrations stored for {report['submitted']} successful submits, "
        f"{report['photos']} photos kept with them ({report['photos_per_submit']} sent each)"
        + (f", failed flows {report['failed_flows']}" if report["failed_flows"] else "")
        + (f", {report['exceptions']} connection errors" if report["exceptions"] else ""),
        "",
        "| step | requests | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    order = ["form", "review", "thumbnails", "submit", "receipt", "station page", "QR PNG"]
    names = {
        "form": "registration form (GET)",
        "review": "answers + photos (POST → review page)",
        "thumbnails": "review thumbnails (GETs, per page)",
        "submit": "confirm (POST → stored)",
        "receipt": "receipt (GET)",
    }
    for step in order:
        values = report["latencies"].get(step)
        if not values:
            continue
        lines.append(
            f"| {names.get(step, step)} | {len(values)} | {percentile(values, 50) * 1000:.0f} | "
            f"{percentile(values, 95) * 1000:.0f} | {max(values) * 1000:.0f} |"
        )
    statuses = ", ".join(
        f"{group}: " + " ".join(f"{s}×{n}" for s, n in sorted(v.items(), key=str))
        for group, v in report["statuses"].items()
    )
    lines += ["", f"Status codes — {statuses}."]
    return "\n".join(lines)


def main() -> int:
    """Set up the bench database and gunicorn (as bench/run.py does) and run the load test."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--browsers", type=int, default=10)
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "static-extra").mkdir(exist_ok=True)
    postgres = pg_setup()
    url = (
        f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
        if postgres
        else f"sqlite:///{VAR / 'load.sqlite3'}"
    )
    if not redis_flush():
        return 2
    env = child_env(url)
    os.environ.update(env)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    import django

    django.setup()
    seed_stations()
    files = registration_files(True, phone_photos(), small_photo())
    gunicorn = Gunicorn(env, VAR / "gunicorn.log")
    gunicorn.start()
    try:
        report = run(
            gunicorn.port,
            seconds=args.seconds,
            residents=args.residents,
            browsers=args.browsers,
            files=files,
            station_codes=[f"bench-{i:02d}" for i in range(1, 42)],
        )
    finally:
        gunicorn.stop()
    print(summary(report))
    if postgres:
        from django.db import connections

        connections.close_all()
        pg_drop()
    redis_flush()
    return 0 if passed(report) else 1


if __name__ == "__main__":
    sys.exit(main())
