"""
What each step of a registration costs the server, in one process: CPU time and queries.

Drives the real flow (form → answers with photos → the review page's thumbnails → confirm
→ receipt) with Django's test client on ``config.settings.bench`` (CSRF checks on, as
behind nginx), photos as ``bench/load.py`` sends them (``--full-size-share`` of the flows
full size). Prints the median CPU time and the queries of each step and the CPU time of a
whole registration; ``--profile DIR`` writes a cProfile file per step (CPU-time clock).
Sets up its own database (``BENCH_PG_DB``, dropped first) and uses ``BENCH_REDIS_URL``:

    .venv/bin/python bench/page_costs.py [--flows 40] [--full-size-share 0.2] [--profile DIR]

Run it on two checkouts one after the other (or alternately) to compare them: the machine's
load moves absolute CPU times, so compare runs made a few seconds apart.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.environment import PG_DB, child_env, manage, pg_drop, pg_setup, redis_flush  # noqa: E402
from bench.journeys import _FormInputs, answers, small_photo  # noqa: E402
from bench.load import full_size, shrunk_files  # noqa: E402

STEPS = ("form", "review", "thumbnails", "submit", "receipt")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=40)
    parser.add_argument("--full-size-share", type=float, default=0.2)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    if not pg_setup() or not redis_flush():
        return 2
    env = child_env(f"postgres://postgres@127.0.0.1:5432/{PG_DB}")
    os.environ.update(env)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    import django

    django.setup()
    try:
        report(args)
    finally:
        from django.db import connections

        connections.close_all()
        pg_drop()
        redis_flush()
    return 0


def report(args) -> None:
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.common import csrf_token
    from bench.seeds import phone_photos, registration_files, seed_stations

    seed_stations(1)
    full = registration_files(True, phone_photos(), small_photo())
    shrunk = shrunk_files(full, settings.REGISTRATION_IMAGE_MAX_SIDE)
    client = Client(
        HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="linli.bench", enforce_csrf_checks=True
    )
    url, referer = "/s/bench-01/register/", "https://linli.bench/s/bench-01/register/"
    cpu, queries = defaultdict(list), defaultdict(list)
    profiles = {step: cProfile.Profile(time.process_time) for step in STEPS}
    warm_up = 3

    def step(name, n, call, *call_args, **call_kwargs):
        with CaptureQueriesContext(connection) as captured:
            started = time.process_time()
            if args.profile and n >= warm_up:
                profiles[name].enable()
            response = call(*call_args, **call_kwargs)
            profiles[name].disable()
            spent = time.process_time() - started
        if n >= warm_up:
            cpu[name].append(spent)
            queries[name].append(len(captured))
        return response

    for n in range(args.flows + warm_up):
        client.cookies = SimpleCookie()
        client.defaults["REMOTE_ADDR"] = f"10.9.{n // 250}.{n % 250 + 1}"
        page = step("form", n, client.get, url, secure=True)
        assert page.status_code == 200, page.status_code
        data = {**dict(answers(n)), "csrfmiddlewaretoken": csrf_token(page.text), "step": "review"}
        files = (
            full if n >= warm_up and full_size(n - warm_up + 1, args.full_size_share) else shrunk
        )
        for kind, name, content in files:
            data[kind] = SimpleUploadedFile(name, content, "image/jpeg")
        review = step("review", n, client.post, url, data, secure=True, HTTP_REFERER=referer)
        assert review.status_code == 200, review.status_code
        inputs = _FormInputs()
        inputs.feed(review.text)
        for src in inputs.images:
            assert step("thumbnails", n, client.get, src, secure=True).status_code == 200
        fields = {**dict(inputs.hidden), "step": "submit"}
        sent = step("submit", n, client.post, url, fields, secure=True, HTTP_REFERER=referer)
        assert sent.status_code == 302, sent.status_code
        receipt = step("receipt", n, client.get, sent["Location"], secure=True)
        assert receipt.status_code == 200, receipt.status_code

    total = sum(sum(values) for values in cpu.values()) / args.flows
    print(
        f"{args.flows} registrations, {args.full_size_share:.0%} with full-size photos, code in {ROOT}"
    )
    print(f"CPU per registration: {total * 1000:.1f} ms")
    for name in STEPS:
        values = sorted(cpu[name])
        if not values:  # no request of this step (the review page's thumbnails are inline)
            continue
        print(
            f"  {name:<10} median {values[len(values) // 2] * 1000:6.1f} ms CPU a request, "
            f"queries {sorted(set(queries[name]))}"
        )
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            profiles[name].dump_stats(args.profile / f"{name}.prof")


if __name__ == "__main__":
    raise SystemExit(main())
