"""
``make bench``: Linli's benchmark. Prints one table of ratios against baselines measured in
the same run (absolute times on a shared 2-core machine are noise; they are printed beside).

Runs on the production settings (config.settings.bench) with gunicorn from the pinned
requirements on a free loopback port, a dedicated PostgreSQL database (``linli_bench``,
created and dropped here) and Redis database 14. Without PostgreSQL it runs what it can on
SQLite and says so. See bench/README.md for what each figure means.

    .venv/bin/python bench/run.py [--rows 1000000] [--quick] [--keep] [--no-load]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Client, Gunicorn, compare_rps, percentile  # noqa: E402

VAR = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "linli_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
STATION = "bench-01"  # the station whose pages are measured


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


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


# ------------------------------------------------------------------------------
# Environment: PostgreSQL database, Redis db, settings
# ------------------------------------------------------------------------------
def pg_setup(name: str = "") -> bool:
    """Drop and create the benchmark database (or ``name``); return whether PostgreSQL is
    reachable."""
    name = name or PG_DB
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return True
    except Exception as error:
        log(f"PostgreSQL not reachable ({type(error).__name__}: {error}); using SQLite.")
        return False


def pg_drop(name: str = "") -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name or PG_DB}" WITH (FORCE)')


def redis_flush() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
        return True
    except Exception as error:
        log(f"Redis not reachable at {REDIS_URL}: {error}")
        return False


def child_env(
    database_url: str,
    *,
    redis_url: str = "",
    var: Path | None = None,
    settings: str = "config.settings.bench",
) -> dict:
    """The environment of the benchmark's processes: only BENCH_* variables point at data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings,
            "BENCH_DATABASE_URL": database_url,
            "BENCH_REDIS_URL": redis_url or REDIS_URL,
            "BENCH_VAR_DIR": str(var or VAR),
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


# ------------------------------------------------------------------------------
# Data: stations and a staff superuser (small); registrations (big, see datagen)
# ------------------------------------------------------------------------------
def seed_stations(count: int = 41) -> list:
    """Create ``count`` stations (Guangzhou has 41) with texts and one officer each."""
    from django.contrib.auth import get_user_model

    from stations.constants import MembershipRole
    from stations.services import station_create_or_update, station_membership_set

    districts = ["Tianhe", "Yuexiu", "Haizhu", "Baiyun", "Panyu", "Huangpu"]
    stations = []
    for i in range(1, count + 1):
        code = f"bench-{i:02d}"
        district = districts[i % len(districts)]
        stations.append(
            station_create_or_update(
                code=code,
                district=f"{district} District",
                phone="020-8765-4321",
                wechat_id=f"linli_{code}",
                languages_spoken="中文, English",
                texts={
                    "en": {
                        "name": f"Bench Street {i} Expat Service Station",
                        "address": f"{i} Bench Road, {district} District, Guangzhou",
                        "opening_hours": "Monday–Friday 9:00–17:30\nSaturday 9:00–12:00",
                    },
                    "zh-hans": {
                        "name": f"测试{i}街境外人员服务站",
                        "address": f"广州市{district}区测试路{i}号",
                        "opening_hours": "周一至周五 9:00–17:30\n周六 9:00–12:00",
                    },
                },
            )
        )
        officer, _created = get_user_model().objects.get_or_create(
            username=f"officer-{code}", defaults={"email": f"officer-{code}@example.org"}
        )
        station_membership_set(user=officer, station=stations[-1], role=MembershipRole.OFFICER)
    return stations


def superuser_client():
    """A Django test client logged in as a superuser who passed the second factor."""
    from django.contrib.auth import get_user_model
    from django.test import Client as DjangoClient
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin",
        defaults={"is_staff": True, "is_superuser": True, "email": "bench@example.org"},
    )
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    client = DjangoClient(HTTP_HOST="linli.bench", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


# ------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------
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


def fig_station(port: int, args) -> Row:
    from django.templatetags.static import static

    warm, cold = station_queries()
    # The stylesheet every page links, as WhiteNoise serves it under the same gunicorn.
    static_path = static("css/linli.css")
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


def phone_photos() -> list[bytes]:
    """Two ~4 MB phone photos, made once and kept in var/bench/photos/."""
    from bench.photos import phone_photo

    folder = VAR / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for seed in (1, 2):
        path = folder / f"phone-{seed}.jpg"
        if not path.exists():
            path.write_bytes(phone_photo(seed))
        photos.append(path.read_bytes())
    return photos


def registration_files(big: bool, big_photos: list[bytes], small: bytes):
    """The photos of one submission: two phone photos (``big``) or all small ones."""
    from registration.forms import RegistrationForm

    required = list(RegistrationForm.required_photo_kinds)
    files = []
    for index, kind in enumerate(required):
        content = big_photos[index] if big and index < len(big_photos) else small
        files.append((kind, f"IMG_{4000 + index}.jpg", content))
    if big and len(required) < len(big_photos):  # fewer required kinds: optional ones
        optional = [k for k in RegistrationForm.photo_kinds if k not in required]
        for index, kind in enumerate(optional[: len(big_photos) - len(required)]):
            files.append((kind, f"IMG_{5000 + index}.jpg", big_photos[len(required) + index]))
    return files


def fig_submit(port: int, args, big_photos: list[bytes], small: bytes) -> Row:
    from bench.journeys import register

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


def fig_reminders(env: dict, args) -> list[Row]:
    """Run the reminder probe in a subprocess (its own peak memory) and read its JSON."""
    import json

    goal = "≤ 3, ≤ 200 MB"
    out = subprocess.run(
        [sys.executable, "bench/reminders_probe.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    (VAR / "reminders_probe.log").write_text(out.stdout + out.stderr)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1][:200]
        return [Row("6. send_due_reminders ÷ raw SQL", None, goal, False, f"probe failed: {last}")]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    sql = data["sql_seconds"]
    memory = data["peak_mb"] <= 200
    dry = data["dry_seconds"] / sql
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
            f"{data['peak_mb']:.0f} MB RSS (Django loaded: {data['start_mb']:.0f} MB)",
        ),
    ]


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


def machine() -> str:
    start, end = (f"{x[0]:.1f}" for x in (LOAD_AT_START, os.getloadavg()))
    return (
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, load average {start} at the start, {end} at the end"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="registrations for 5 and 6")
    parser.add_argument("--quick", action="store_true", help="small sizes (a quick check)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--no-load", action="store_true", help="skip the 60 s load test")
    parser.add_argument("--load-seconds", type=float, default=60)
    args = parser.parse_args()
    args.rounds, args.seconds, args.threads = (1, 2.0, 8) if args.quick else (3, 4.0, 8)
    args.submits = 6 if args.quick else 30
    args.repeat = 3 if args.quick else 7
    if args.quick:
        args.rows = min(args.rows, 20_000)
        args.load_seconds = min(args.load_seconds, 10)
    started = time.monotonic()
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "static-extra").mkdir(exist_ok=True)

    postgres = pg_setup()
    database_url = (
        f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
        if postgres
        else f"sqlite:///{VAR / 'bench.sqlite3'}"
    )
    if not postgres:
        (VAR / "bench.sqlite3").unlink(missing_ok=True)
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

    from bench.journeys import small_photo

    big_photos = phone_photos()
    small = small_photo()

    rows: list[Row] = []
    load_summary = ""
    gunicorn = Gunicorn(env, VAR / "gunicorn.log")
    log(f"gunicorn: {gunicorn.workers} workers × {os.environ.get('GUNICORN_THREADS', 4)} threads")
    gunicorn.start()
    try:
        log("1. station page vs static file")
        rows.append(
            guarded("1. station page ÷ static file", "≥ 0.8", fig_station, gunicorn.port, args)
        )
        log("2. QR PNG vs static file")
        rows.append(
            guarded("2. QR PNG ÷ static file", "≥ 0.8", fig_qr, gunicorn.port, args, static_path)
        )
        log("4. registration submits")
        rows.append(
            guarded(
                "4. submit p95 with ÷ without photos",
                "≤ 4",
                fig_submit,
                gunicorn.port,
                args,
                big_photos,
                small,
            )
        )
        if not args.no_load:
            from bench import load

            log(f"load test: {args.load_seconds:.0f} s")
            report = load.run(
                gunicorn.port,
                seconds=args.load_seconds,
                residents=50,
                browsers=10,
                files=registration_files(True, big_photos, small),
                station_codes=[f"bench-{i:02d}" for i in range(1, 42)],
            )
            load_summary = load.summary(report)
    finally:
        gunicorn.stop()
    log("3. billboard")
    rows.insert(2, guarded("3. A3 billboard ÷ bare PDF", "≤ 2", fig_billboard, args.repeat + 3))
    if postgres:
        log(f"5. admin changelist, generating {args.rows:,} registrations")
        rows.append(guarded("5. admin changelist", "≤ 1.5", fig_changelist, args))
        log("6. reminders")
        try:
            rows += fig_reminders(env, args)
        except Exception as error:
            rows.append(Row("6. send_due_reminders", None, "≤ 3", False, f"failed: {error}"))
    else:
        for name in ("5. admin changelist at 1,000,000 ÷ 1,000", "6. send_due_reminders ÷ raw SQL"):
            rows.append(Row(name, None, "", None, "skipped: PostgreSQL not reachable (SQLite run)"))

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
