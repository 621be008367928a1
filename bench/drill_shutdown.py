"""
Drill: SIGTERM to gunicorn while residents confirm registrations on kept-alive connections.

Starts gunicorn with ``config/gunicorn.py`` on a free loopback port (the embedded default with DEBUG
off, everything in a temporary folder, no PostgreSQL or Redis), lets N simulated residents each keep one
HTTP/1.1 keep-alive connection and repeat "confirm" (a POST that stores a record after
some work) → "receipt" (a GET) → a pause of a phone user, sends SIGTERM to gunicorn in the
middle, and counts what the residents saw:

- ``ok``: an answer (any status below 500);
- ``reset``: the connection broke after the request was sent — the resident cannot tell
  whether a confirm was stored;
- ``refused``: no connection (gunicorn had stopped listening) — clearly failed;
- ``5xx``: an error answer.

Every confirm is then checked against what was stored: an answered confirm that was not
stored is **lost**, a failed one that was stored is **ambiguous**. Both must be 0.

With ``--reload`` it sends SIGHUP instead (``systemctl reload linli-web``): new workers take
over and no request may fail at all.

The client is deliberately naive (no retry, no check of a pooled connection before reuse):
the worst case of what reaches gunicorn. Bounded: about 15 s.

    .venv/bin/python bench/drill_shutdown.py [--clients 12] [--before 3] [--seed 1] [--reload] [--stock-worker]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"

_SETTINGS = """
from config.settings.local import *  # noqa: F403

DEBUG = False

ROOT_URLCONF = "drill_urls"
ALLOWED_HOSTS = ["127.0.0.1"]
"""

_URLS = '''
"""The portal's URLs plus the drill's confirm and receipt (stored as files)."""
import os
import time
from pathlib import Path

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as portal

STORE = Path(os.environ["DRILL_STORE"])


@csrf_exempt
def confirm(request):
    key = request.POST["key"]
    time.sleep(float(request.POST.get("work", "0.3")))  # validation, images, the database
    (STORE / key).write_text("stored")
    return HttpResponseRedirect(f"/drill/receipt/{key}/")


def receipt(request, key):
    if not (STORE / key).exists():
        return HttpResponse("no such confirm", status=404)
    return HttpResponse("receipt " + key)


urlpatterns = [
    path("drill/confirm/", confirm),
    path("drill/receipt/<str:key>/", receipt),
    *portal,
]
'''


def free_port() -> int:
    """Return a free TCP port on the loopback."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class Resident(threading.Thread):
    """One phone: one keep-alive connection, confirm → receipt → pause, until told to stop."""

    def __init__(self, port: int, stop: threading.Event, seed: int, results: list):
        super().__init__(daemon=True)
        self.port = port
        self.stop_event = stop
        self.random = random.Random(seed)
        self.results = results
        self.conn: http.client.HTTPConnection | None = None

    def _send(self, method: str, path: str, body: str | None = None) -> tuple[str, int]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=20)
        reused = self.conn.sock is not None
        headers = {"Host": "127.0.0.1"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            response.read()
        except ConnectionRefusedError:
            self._drop()
            return "refused", 0
        except (ConnectionError, http.client.HTTPException, OSError) as error:
            self._drop()
            if isinstance(error, TimeoutError):
                return "timeout", 0
            return ("reset" if reused else "reset-new"), 0
        if response.getheader("Connection", "").lower() == "close" or response.will_close:
            self._drop()
        return ("ok" if response.status < 500 else "5xx"), response.status

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self) -> None:
        while not self.stop_event.is_set():
            key = uuid.uuid4().hex
            sent_at = time.monotonic()
            work = f"{self.random.uniform(0.1, 0.6):.2f}"
            outcome, status = self._send("POST", "/drill/confirm/", f"key={key}&work={work}")
            self.results.append(("confirm", key, outcome, status, sent_at))
            if outcome == "ok":
                sent_at = time.monotonic()
                outcome, status = self._send("GET", f"/drill/receipt/{key}/")
                self.results.append(("receipt", key, outcome, status, sent_at))
            # A resident reads the receipt, then the next one confirms (one phone, many users).
            self.stop_event.wait(self.random.uniform(0.5, 4.0))
        self._drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--before", type=float, default=3.0, help="seconds before SIGTERM")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--reload", action="store_true", help="SIGHUP (graceful reload) instead of SIGTERM"
    )
    parser.add_argument(
        "--after", type=float, default=8.0, help="with --reload: seconds counted after it"
    )
    parser.add_argument(
        "--stock-worker",
        action="store_true",
        help="gunicorn's own gthread worker instead of config/gunicorn.py's (to compare)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="linli-drill-") as tmp:
        tmp_path = Path(tmp)
        site = tmp_path / "site"
        site.mkdir()
        (site / "drill_settings.py").write_text(textwrap.dedent(_SETTINGS))
        (site / "drill_urls.py").write_text(textwrap.dedent(_URLS))
        store = tmp_path / "store"
        store.mkdir()
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))},
            "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "drill_settings",
            "LINLI_VAR_DIR": str(tmp_path / "var"),
            "DRILL_STORE": str(store),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": "",
            "GUNICORN_BIND": f"{LOOPBACK}:{port}",
            "WEB_CONCURRENCY": str(args.workers),
            "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_LOG_LEVEL": "info",
        }
        if args.stock_worker:
            env["GUNICORN_CMD_ARGS"] = "--worker-class gthread"
        log_path = tmp_path / "gunicorn.log"
        with open(log_path, "wb") as log:
            gunicorn = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
                [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                return _drill(gunicorn, port, args, store, log_path)
            finally:
                if gunicorn.poll() is None:
                    gunicorn.kill()  # our own child, by its id
                    gunicorn.wait(10)


def _ready(port: int, gunicorn: subprocess.Popen, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and gunicorn.poll() is None:
        try:
            conn = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
            conn.request("GET", "/drill/receipt/none/", headers={"Host": "127.0.0.1"})
            status = conn.getresponse().status
            conn.close()
            if status == 404:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def _drill(gunicorn, port, args, store: Path, log_path: Path) -> int:
    if not _ready(port, gunicorn):
        print(f"gunicorn did not start; its log:\n{log_path.read_text()[-3000:]}")
        return 2
    stop = threading.Event()
    results: list = []
    residents = [Resident(port, stop, args.seed * 1000 + i, results) for i in range(args.clients)]
    for resident in residents:
        resident.start()
    time.sleep(args.before)
    term_at = time.monotonic()
    if args.reload:
        # A graceful reload (systemctl reload): new workers start, the old ones stop.
        gunicorn.send_signal(signal.SIGHUP)  # our own child, by its id
        time.sleep(args.after)
        stop.set()
        for resident in residents:
            resident.join(25)
        stopped_at = time.monotonic()
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(45)
    else:
        gunicorn.send_signal(signal.SIGTERM)  # our own child, by its id
        try:
            gunicorn.wait(45)
        except subprocess.TimeoutExpired:
            print("gunicorn did not stop within 45 s")
        stopped_at = time.monotonic()
        time.sleep(0.5)  # a moment of "down" for the residents to notice
        stop.set()
        for resident in residents:
            resident.join(25)

    stored = {path.name for path in store.iterdir()}
    after = [r for r in results if r[4] >= term_at]
    counts = Counter((kind, outcome) for kind, _key, outcome, _status, _at in after)
    lost = [r for r in results if r[0] == "confirm" and r[2] == "ok" and r[1] not in stored]
    ambiguous = [r for r in results if r[0] == "confirm" and r[2] != "ok" and r[1] in stored]
    total_before = sum(1 for r in results if r[4] < term_at)
    failed_before = sum(1 for r in results if r[4] < term_at and r[2] != "ok")

    worker = "gthread (stock)" if args.stock_worker else "config/gunicorn.py's worker"
    seconds = stopped_at - term_at
    what = (
        f"reloaded by SIGHUP, requests counted for {seconds:.1f} s"
        if args.reload
        else f"stopped {seconds:.1f} s after SIGTERM"
    )
    print(f"gunicorn: {args.workers} workers, {worker}, {what}; {args.clients} residents")
    print(f"before the signal: {total_before} requests, {failed_before} failed")
    print("requests sent after the signal:")
    for kind in ("confirm", "receipt"):
        row = {
            o: counts[(kind, o)] for o in ("ok", "reset", "reset-new", "refused", "timeout", "5xx")
        }
        print(f"  {kind:8} " + "  ".join(f"{name} {value}" for name, value in row.items()))
    print(f"confirms answered but not stored (lost): {len(lost)}")
    print(f"confirms failed but stored (ambiguous): {len(ambiguous)}")
    # Stopping: a request may be refused (nothing sent), never cut off after it was sent.
    # Reloading: nothing may fail at all.
    bad = {o for (_k, o) in counts if o != "ok"} if args.reload else {"reset", "reset-new"}
    failures = sum(v for (_k, o), v in counts.items() if o in bad)
    # The last line, for `make drill`'s table (bench/drills/external.py reads these keys).
    print(
        json.dumps(
            {
                "5xx": sum(v for (_k, o), v in counts.items() if o == "5xx"),
                "lost_registrations": len(lost) + len(ambiguous),
                "lost_messages": 0,
                "duplicates": 0,
                "out_of_order": 0,
                "allowed_5xx": 0,
                "reset": sum(v for (_k, o), v in counts.items() if o in ("reset", "reset-new")),
            }
        )
    )
    return 1 if (lost or ambiguous or failures or failed_before) else 0


if __name__ == "__main__":
    sys.exit(main())
