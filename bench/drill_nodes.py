"""
``make drill-nodes``: Linli on two nodes that can lose one.

Two hosts on this machine — network namespaces ``linli-nodes-a`` (10.231.13.11) and
``linli-nodes-b`` (10.231.13.12) on a bridge whose root-namespace address is 10.231.13.1
(``bench/drills/netns.py``) — each run gunicorn with ``config/gunicorn.py``, a Celery
worker and (node a) beat, on the production settings (``config.settings.drill``) against
what both share on the bridge address:

- PostgreSQL: this machine's, database ``linli_nodes`` (created and dropped here), reached
  through ``bench/tcp_forward.py`` because PostgreSQL listens on 127.0.0.1 only;
- Redis: a ``redis-server`` of the drill's own (broker and cache), restarted by the drill;
- private documents: an S3 server (moto's server mode, requirements-dev.txt) with the
  project's S3 settings (``PRIVATE_STORAGE=s3``, ``AWS_S3_ENDPOINT_URL`` …);
- static files: collected once and copied to each node (each serves its own copy).

Residents register with photos (form → photos → thumbnails → confirm → receipt), spread
round-robin over the nodes by the load generator (half of them stick to one node); meanwhile
node a's gunicorn is killed (SIGKILL to master and workers), node b's worker gets ``kill -9``
and Redis restarts. Counted: 5xx (only requests in flight on the killed node may fail),
registrations stored = successful submits, every stored document read back through each
node (so through the one that did not receive it), every message delivered exactly once
(the ledger), CPU-seconds of each node.

    .venv/bin/python bench/drill_nodes.py [--short] [--report-only] [--keep] [--require]

Without network namespaces (no root, no iproute2, a container without CAP_NET_ADMIN) it
prints "blocked: <reason>" and exits 0, or 2 with ``--require``. Namespaces, veths and every
process are removed on any exit (an error, Ctrl-C, SIGTERM); a run killed with SIGKILL is
cleaned up by the next one.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import VENV_BIN, free_port, log  # noqa: E402
from bench.drills import (  # noqa: E402
    SETTINGS,
    STATIONS,
    netns,
)
from bench.drills.report import table  # noqa: E402

VAR = ROOT / "var" / "drill-nodes"
PG_DB = os.environ.get("DRILL_NODES_PG_DB", "linli_nodes")
BUCKET = "linli-drill-private"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "drill", "AWS_SECRET_ACCESS_KEY": "drill-secret"}


class Service:
    """A process of the root namespace (forwarder, S3 server), stopped by its own id."""

    def __init__(self, argv: list[str], log_path: Path):
        with open(log_path, "ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own programs
                argv, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def wait_port(host: str, port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {host}:{port}")


def s3_bucket(endpoint: str) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=BUCKET)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)  # runs every finally: namespaces and processes go


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="under two minutes (CI)")
    parser.add_argument("--report-only", action="store_true", help="exit 0 if a goal is missed")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--require", action="store_true", help="exit 2 (not 0) when namespaces are blocked"
    )
    parser.add_argument("--seconds", type=float, default=None, help="seconds of load")
    parser.add_argument("--parallel", type=int, default=None, help="residents at once")
    parser.add_argument("--settle", type=float, default=None, help="seconds to wait for messages")
    args = parser.parse_args()
    seconds = args.seconds or (36 if args.short else 120)
    parallel = args.parallel or (4 if args.short else 6)
    settle_seconds = args.settle or (30 if args.short else 90)

    reason = netns.blocked()
    if reason:
        print(f"blocked: {reason}", flush=True)
        return 2 if args.require else 0
    for program in ("redis-server",):
        if not shutil.which(program):
            print(f"blocked: {program} is missing (apt-get install redis-server)", flush=True)
            return 2 if args.require else 0
    if not (VENV_BIN / "moto_server").exists():
        print("blocked: moto_server is missing (pip install -r requirements-dev.txt)")
        return 2 if args.require else 0

    # Ctrl-C even when started in the background (where SIGINT is ignored), SIGTERM, SIGHUP:
    # an exception, so every `finally` below runs and nothing is left behind.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    started = time.monotonic()
    shutil.rmtree(VAR, ignore_errors=True)
    (VAR / "ledger").mkdir(parents=True)
    services: list[Service] = []
    nodes: list = []
    redis = None
    postgres = False
    row = counts = None
    try:
        from bench.environment import child_env, manage, pg_drop, pg_setup
        from bench.processes import RedisServer

        netns.setup()
        if not pg_setup(PG_DB):
            print("blocked: PostgreSQL is required on 127.0.0.1:5432 (user postgres)")
            return 2
        postgres = True
        pg_port, s3_port = free_port(), free_port()
        services.append(
            Service(
                [
                    sys.executable,
                    "bench/tcp_forward.py",
                    f"{netns.HOST}:{pg_port}",
                    "127.0.0.1:5432",
                ],
                VAR / "forward.log",
            )
        )
        services.append(
            Service(
                [str(VENV_BIN / "moto_server"), "-H", netns.HOST, "-p", str(s3_port)],
                VAR / "s3.log",
            )
        )
        redis = RedisServer(VAR / "redis.log", bind=netns.HOST, password=secrets.token_hex(16))
        redis.start()
        wait_port(netns.HOST, pg_port)
        wait_port(netns.HOST, s3_port)
        endpoint = f"http://{netns.HOST}:{s3_port}"
        s3_bucket(endpoint)
        url = f"postgres://postgres@{netns.HOST}:{pg_port}/{PG_DB}"
        env = child_env(url, redis_url=redis.url, var=VAR, settings=SETTINGS)
        env.update(
            {
                "BENCH_KEEP_RATE_LIMITS": "1",
                "BENCH_LOG_LEVEL": "INFO",
                "DRILL_LEDGER_DIR": str(VAR / "ledger"),
                "DRILL_SWEEP_AFTER": "3",
                "DRILL_SENDING_LEASE": "6",
                "DRILL_SWEEP_EVERY": "2",
                # A delivery takes a second (an SMTP round trip on a slow day): the worker's
                # kill -9 then finds messages "sending", as in production.
                "DRILL_SEND_SECONDS": "1",
                "WEB_CONCURRENCY": "2",
                # The balancer (the load generator) reaches the nodes from the bridge address.
                "TRUSTED_PROXIES": netns.HOST,
                "PRIVATE_STORAGE": "s3",
                "AWS_STORAGE_BUCKET_NAME": BUCKET,
                "AWS_S3_ENDPOINT_URL": endpoint,
                "AWS_S3_REGION_NAME": "us-east-1",
                **S3_KEYS,
            }
        )
        os.environ.update(env)
        os.environ["BENCH_LOG_LEVEL"] = "WARNING"
        log(
            f"database {PG_DB} via {netns.HOST}:{pg_port}, redis {netns.HOST}:{redis.port}, S3 {endpoint}"
        )
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "collectstatic", "--no-input", "-v", "0")
        import django

        django.setup()
        from bench.drills import tally, two_nodes
        from bench.drills.nodes import make_node
        from bench.journeys import small_photo
        from bench.seeds import phone_photos, registration_files, seed_stations

        tally.LEDGER = VAR / "ledger"  # the ledger of this drill's nodes
        seed_stations(len(STATIONS))
        photos = [] if args.short else phone_photos()
        files = registration_files(not args.short, photos, small_photo())
        for host in netns.HOSTS:
            # Static files per node: each node serves its own collected copy.
            shutil.copytree(VAR / "static", VAR / host.name / "static")
            nodes.append(make_node(host, env, VAR, with_beat=True))
        for node in nodes:
            for process in node.processes():
                process.start(wait=False)
            node.web.start(wait=False)
        for node in nodes:
            node.web.wait_ready()
            for process in node.processes():
                process.wait_ready()
        log(
            f"two nodes up (gunicorn 2×4, worker ×2 each, beat each); {time.monotonic() - started:.0f} s"
        )
        row, counts = two_nodes.run(
            nodes,
            redis,
            files,
            seconds=seconds,
            parallel=parallel,
            settle_seconds=settle_seconds,
            env=env,
            short=args.short,
        )
    except BaseException as error:
        log(f"stopped by {type(error).__name__}; removing the nodes, namespaces and services")
        raise
    finally:
        for node in nodes:
            node.stop()
        netns.teardown()
        for service in services:
            service.stop()
        if redis is not None:
            redis.stop()
        if postgres and not args.keep:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            with contextlib.suppress(Exception):
                pg_drop(PG_DB)
    elapsed = time.monotonic() - started
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = (
        f"Linli two-node drill{' (--short)' if args.short else ''}, {stamp}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {SETTINGS}; nodes a "
        f"({netns.HOSTS[0].address}) and b ({netns.HOSTS[1].address}), {parallel} residents "
        f"for {seconds:.0f} s; total {elapsed:.0f} s"
    )
    output = head + "\n\n" + table([row]) + "\n\nEvents: " + "; ".join(counts["events"])
    output += f"\nBeat failover: {json.dumps(counts['beat_failover'])}"
    missed = row.missed()
    output += (
        ("\n\nMissed goals:\n" + "\n".join(f"- {g}" for g in missed))
        if missed
        else ("\n\nEvery goal met.")
    )
    print("\n" + output, flush=True)
    (VAR / "results.md").write_text(output + "\n")
    summary = {
        "5xx": counts["5xx"] + counts["other_errors"],
        "allowed_5xx": counts["in_flight_on_killed"],
        "lost_registrations": row.lost_registrations,
        "lost_messages": row.lost_messages,
        "duplicates": row.duplicates,
        "out_of_order": row.out_of_order,
        "stored": counts["stored"],
        "submits": counts["submits"],
        "cpu_seconds": counts["cpu_seconds"],
    }
    print(json.dumps(summary), flush=True)
    return 1 if missed and not args.report_only else 0


if __name__ == "__main__":
    sys.exit(main())
