"""
The figures of ``make bench``: each measures one thing against a baseline measured in the
same run and returns a table row (bench/README.md says what each means).

The project's modules are imported inside the functions: they run after ``django.setup()``,
which the command (bench/run.py, bench/drill.py) calls once the environment is set.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from bench.common import ROOT, Client, compare_rps, log, percentile
from bench.environment import VAR
from bench.journeys import register
from bench.seeds import STATION, registration_files, superuser_client


@dataclass
class Row:
    figure: str
    ratio: float | None
    goal: str
    ok: bool | None
    detail: str

    def line(self) -> list[str]:
        ratio = "—" if self.ratio is None else f"{self.ratio:.2f}"
        verdict = {True: "met", False: "MISSED", None: "n/a"}[self.ok]
        return [self.figure, ratio, self.goal, verdict, self.detail]


def guarded(name: str, goal: str, function, *args) -> Row:
    """Run one figure; a failure becomes a row that says so instead of ending the run."""
    try:
        return function(*args)
    except Exception as error:
        import traceback

        traceback.print_exc()
        return Row(name, None, goal, False, f"failed: {type(error).__name__}: {error}"[:300])


def station_queries() -> tuple[int, int]:
    """Queries of the station page: (warm cache, cold cache), in-process."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(HTTP_HOST="linli.bench", HTTP_X_FORWARDED_PROTO="https")
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        assert client.get(f"/s/{STATION}/").status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(f"/s/{STATION}/").status_code == 200
    return len(warm), len(cold)


def fig_station(port: int, args, static_path: str) -> Row:
    warm, cold = station_queries()
    # Against the stylesheet every page links, as WhiteNoise serves it under the same gunicorn.
    page, baseline = compare_rps(
        port,
        f"/s/{STATION}/",
        static_path,
        rounds=args.rounds,
        seconds=args.seconds,
        threads=args.threads,
    )
    ratio = page.rps / baseline.rps if baseline.rps else 0
    return Row(
        "1. station page req/s ÷ WhiteNoise static file req/s",
        ratio,
        "≥ 0.8",
        ratio >= 0.8,
        f"{page.rps:.0f} vs {baseline.rps:.0f} req/s ({static_path}), p95 "
        f"{percentile(page.latencies, 95) * 1000:.1f} vs "
        f"{percentile(baseline.latencies, 95) * 1000:.1f} ms; {warm} queries warm, {cold} cold; "
        f"errors {page.errors + baseline.errors}",
    )


def fig_qr(port: int, args, static_path: str) -> Row:
    png, static = compare_rps(
        port,
        f"/s/{STATION}/register/qr.png",
        static_path,
        rounds=args.rounds,
        seconds=args.seconds,
        threads=args.threads,
    )
    ratio = png.rps / static.rps if static.rps else 0
    return Row(
        "2. cached QR PNG req/s ÷ whitenoise static file req/s",
        ratio,
        "≥ 0.8",
        ratio >= 0.8,
        f"{png.rps:.0f} vs {static.rps:.0f} req/s (same bytes as a static file); "
        f"errors {png.errors + static.errors}",
    )


def bare_pdf(content) -> bytes:
    """One A3 page with the same texts and QR codes, in ReportLab, without any layout."""
    import io

    from reportlab.lib import pagesizes
    from reportlab.pdfgen.canvas import Canvas

    from stations.billboards import pdf_font
    from stations.qr import QUIET_ZONE, dark_runs, qr_matrix

    width, height = pagesizes.A3
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, invariant=1)
    font = pdf_font()
    y = height - 40
    texts = [*content.headlines, *content.names, *content.rules, *content.info]
    texts += [*content.footer, *content.emergency]
    texts += [caption for qr in content.qrs for caption in qr.captions]
    for text in texts:
        canvas.setFont(font, 12)
        canvas.drawString(30, y, text)
        y -= 16
    side = 300
    for index, qr in enumerate(content.qrs):
        matrix = qr_matrix(qr.url)
        module = side / (len(matrix) + 2 * QUIET_ZONE)
        left, top = 40 + index * (side + 40), 100
        path = canvas.beginPath()
        for row, column, length in dark_runs(matrix):
            path.rect(
                left + (column + QUIET_ZONE) * module,
                top + (len(matrix) - row) * module,
                length * module,
                module,
            )
        canvas.drawPath(path, stroke=0, fill=1)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def fig_billboard(repeat: int) -> Row:
    from stations.billboards import billboard_content, build_pdf
    from stations.models import Station

    station = Station.objects.with_texts().get(code=STATION)
    content = billboard_content(station, "both")
    build_pdf([station], "A3", "both")  # font registration and imports, once
    bare_pdf(content)
    full, bare = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        size_full = len(build_pdf([station], "A3", "both").content)
        full.append(time.perf_counter() - start)
        start = time.perf_counter()
        size_bare = len(bare_pdf(billboard_content(station, "both")))
        bare.append(time.perf_counter() - start)
    ratio = statistics.median(full) / statistics.median(bare)
    return Row(
        "3. A3 billboard build ÷ bare one-page PDF (same QR + text, ReportLab)",
        ratio,
        "≤ 2",
        ratio <= 2,
        f"median {statistics.median(full) * 1000:.0f} vs {statistics.median(bare) * 1000:.0f} ms "
        f"({size_full // 1024} vs {size_bare // 1024} KB), {repeat} builds each",
    )


def fig_submit(port: int, args, big_photos: list[bytes], small: bytes) -> Row:
    with_photos, without = [], []
    failures: dict[str, int] = {}
    n = 0
    for _ in range(args.submits):
        for big, bucket in ((True, with_photos), (False, without)):
            n += 1
            client = Client(port)
            result = register(
                client, STATION, 900_000 + n, registration_files(big, big_photos, small)
            )
            client.close()
            if result.ok:
                bucket.append(result.submit_seconds)
            else:
                key = f"{result.step}:{result.statuses[-1] if result.statuses else '?'}"
                failures[key] = failures.get(key, 0) + 1
    if not with_photos or not without:
        return Row(
            "4. registration submit p95: two 4 MB photos ÷ no phone photos",
            None,
            "≤ 4",
            False,
            f"the form flow failed: {failures}",
        )
    p_with, p_without = percentile(with_photos, 95), percentile(without, 95)
    ratio = p_with / p_without
    sizes = "+".join(f"{len(p) / 1e6:.1f}" for p in big_photos)
    return Row(
        "4. registration submit p95: two 4 MB photos ÷ no phone photos",
        ratio,
        "≤ 4",
        ratio <= 4,
        f"p95 {p_with * 1000:.0f} vs {p_without * 1000:.0f} ms, p50 "
        f"{percentile(with_photos, 50) * 1000:.0f} vs {percentile(without, 50) * 1000:.0f} ms; "
        f"{len(with_photos)}+{len(without)} submits, photos {sizes} MB"
        + (f"; failures {failures}" if failures else ""),
    )


def time_changelist(client, repeat: int) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = "/admin/registration/registration/"
    response = client.get(url)  # warm
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200
    return statistics.median(times), len(queries), len(response.content)


def fig_changelist(args) -> Row:
    from bench import datagen

    client = superuser_client()
    start = time.perf_counter()
    datagen.registrations_add(1000)
    small_time, small_queries, _ = time_changelist(client, args.repeat)
    datagen.registrations_add(args.rows - 1000, log=log)
    generated = time.perf_counter() - start
    big_time, big_queries, _ = time_changelist(client, args.repeat)
    ratio = big_time / small_time
    same = small_queries == big_queries
    return Row(
        f"5. admin changelist at {args.rows:,} ÷ at 1,000 registrations",
        ratio,
        "≤ 1.5, same queries",
        ratio <= 1.5 and same,
        f"median {big_time * 1000:.0f} vs {small_time * 1000:.0f} ms; queries {big_queries} vs "
        f"{small_queries}; {args.rows:,} rows generated in {generated:.0f} s",
    )


REMINDER_RUNS = 5  # the probe on this many copies of the generated database


def _reminders_probe(env: dict) -> dict:
    """One run of bench/reminders_probe.py on ``env``'s database; its JSON line."""
    import json

    out = subprocess.run(
        [sys.executable, "bench/reminders_probe.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    with (VAR / "reminders_probe.log").open("a") as log_file:
        log_file.write(out.stdout + out.stderr)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1][:200]
        raise RuntimeError(f"probe failed: {last}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fig_reminders(env: dict, args) -> list[Row]:
    """
    The reminder probe in a subprocess (its own peak memory), on ``REMINDER_RUNS`` fresh
    copies of the generated database: the real run changes the database, so each run needs
    its own copy, and one run's ratio moves by a third with what else the machine does.
    Each run's ratio is against its own SELECT; the figure is their median.
    """
    from django.db import connections

    from bench.environment import PG_DB, pg_copy, pg_drop

    goal = "≤ 3, ≤ 200 MB"
    connections.close_all()  # a template database takes no other connection
    (VAR / "reminders_probe.log").unlink(missing_ok=True)
    runs = []
    for n in range(REMINDER_RUNS):
        copy = f"{PG_DB}_reminders"
        pg_copy(copy)
        url = env["BENCH_DATABASE_URL"].rsplit("/", 1)[0] + f"/{copy}"
        try:
            runs.append(_reminders_probe({**env, "BENCH_DATABASE_URL": url}))
        except RuntimeError as error:
            return [Row("6. send_due_reminders ÷ raw SQL", None, goal, False, str(error))]
        finally:
            pg_drop(copy)
        log(f"   reminder run {n + 1}: {runs[-1]['command_seconds'] / runs[-1]['sql_seconds']:.2f}")
    reals = sorted(runs, key=lambda r: r["command_seconds"] / r["sql_seconds"])
    data = reals[len(reals) // 2]  # the median run, reported whole
    each = ", ".join(f"{r['command_seconds'] / r['sql_seconds']:.2f}" for r in runs)
    sql = data["sql_seconds"]
    memory = max(r["peak_mb"] for r in runs) <= 200
    dry = statistics.median(r["dry_seconds"] / r["sql_seconds"] for r in runs)
    real = data["command_seconds"] / sql
    rows = f"{data['registrations']:,}"
    return [
        Row(
            f"6a. send_due_reminders --dry-run over {rows} ÷ raw SQL SELECT of the due rows",
            dry,
            goal,
            dry <= 3 and memory,
            f"{data['dry_seconds']:.2f} vs {sql:.3f} s; {data['dry_due']} due "
            f"(SQL: {data['sql_rows']} rows), {data['dry_queries']} queries",
        ),
        Row(
            f"6b. send_due_reminders (queues the messages) over {rows} ÷ the same SELECT",
            real,
            goal,
            real <= 3 and memory,
            f"{data['command_seconds']:.2f} vs {sql:.3f} s; {data['due']} due, "
            f"{data['queued']} queued, {data['queries']} queries "
            f"({data['queries'] / max(1, data['queued']):.1f} per message); peak "
            f"{data['peak_mb']:.0f} MB RSS (Django loaded: {data['start_mb']:.0f} MB); "
            f"median of {len(runs)} runs on copies ({each}); "
            f"÷ a SELECT of only the rules' columns ({data.get('narrow_seconds', 0):.3f} s): "
            f"{data['command_seconds'] / max(data.get('narrow_seconds', 0), 1e-9):.1f}",
        ),
    ]
