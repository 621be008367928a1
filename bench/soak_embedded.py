"""
Soak test of the embedded default: `make run`'s stack under a stream of residents.

    .venv/bin/python bench/soak_embedded.py --minutes 30          # what issue 14 asks
    .venv/bin/python bench/soak_embedded.py --minutes 5 --kill-worker-at 90

Starts the real `make run` stack — honcho with the Procfile (runserver, Celery worker and
beat under bin/keep-running), SQLite, the SQLite-file broker, no Redis — on a free port
with its own data folder (``var/soak/``, wiped first), then for ``--minutes`` sends
residents through the public forms: register (three photos) → receipt; a third of them
then say "I have left", a third ask for their link again, every fifth asks for help. A
probe reads ``/healthz`` every 2 s. Once, at ``--kill-worker-at`` seconds, the Celery
worker is killed with SIGKILL and must come back. At the end the outbox is drained and
the script prints: requests and their statuses, probe failures, messages recorded,
delivered (email files in ``var/soak/mail/``), lost, duplicated, and out of order.

Everything talks to 127.0.0.1 only; traffic is bounded by ``--minutes`` and
``--max-residents``. Exit status 0 when nothing was lost, duplicated, 5xx or down.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import email
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Client, csrf_token, free_port  # noqa: E402
from bench.journeys import LOCAL, _FormInputs, answers, small_photo  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
PHOTO_KINDS = ("passport_page", "visa_page", "entry_stamp")
PRIVATE_LINK_RE = re.compile(r"/registration/r/([A-Za-z0-9_-]{20,})/")
REFERENCE_RE = re.compile(r"\b[A-Z0-9]{2,4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


class LocalClient(Client):
    """A visitor of the development server: plain HTTP on 127.0.0.1, its own address."""

    def request(self, method, path, body=None, headers=None):
        origin = f"http://127.0.0.1:{self.port}"
        extra = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "http"}
        if method == "POST":
            extra.update({"Origin": origin, "Referer": origin + path})
        extra.update(headers or {})
        return super().request(method, path, body, extra)


class Tally:
    """Thread-safe counts of what the residents did and got."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: collections.Counter = collections.Counter()
        self.actions: collections.Counter = collections.Counter()
        self.errors: list[str] = []

    def response(self, step: str, response) -> None:
        with self.lock:
            self.statuses[response.status] += 1
            if response.status >= 500:
                self.errors.append(f"{step}: {response.status}")

    def action(self, name: str) -> None:
        with self.lock:
            self.actions[name] += 1

    def failure(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def resident(client: LocalClient, n: int, photo: bytes, tally: Tally) -> None:
    """Register resident ``n``, then maybe leave, ask for the link again, ask for help."""
    path = "/s/shipai/register/"
    page = client.get(path)
    tally.response("form", page)
    fields = answers(n)
    document_number = dict(fields)["document_number"]
    files = [(kind, f"IMG_{i}.jpg", photo) for i, kind in enumerate(PHOTO_KINDS)]
    review = client.post_multipart(
        path, [("csrfmiddlewaretoken", csrf_token(page.text)), *fields, ("step", "review")], files
    )
    tally.response("review", review)
    if review.status != 200 or 'value="submit"' not in review.text:
        tally.failure(f"review of resident {n}: {review.status}")
        return
    inputs = _FormInputs()
    inputs.feed(review.text)
    sent = client.post_form(path, [*inputs.hidden, ("step", "submit")])
    tally.response("submit", sent)
    if sent.status != 302:
        tally.failure(f"submit of resident {n}: {sent.status}")
        return
    tally.action("registered")
    receipt = client.get(sent.header("Location"))
    tally.response("receipt", receipt)
    link = PRIVATE_LINK_RE.search(receipt.text)
    reference = REFERENCE_RE.search(receipt.text)
    if receipt.status != 200 or not link or not reference:
        tally.failure(f"receipt of resident {n}: {receipt.status}")
        return
    token = link.group(1)
    if n % 3 == 0:
        left = f"/registration/r/{token}/left/"
        form = client.get(left)
        tally.response("left-form", form)
        today = datetime.datetime.now(LOCAL).date().isoformat()  # the portal's TIME_ZONE
        done = client.post_form(
            left,
            [
                ("csrfmiddlewaretoken", csrf_token(form.text)),
                ("departed_on", today),
                ("website", ""),
            ],
        )
        tally.response("left", done)
        if done.status == 302:
            tally.action("departed")
    elif n % 3 == 1:
        lost = "/registration/lost-link/"
        form = client.get(lost)
        tally.response("lost-form", form)
        done = client.post_form(
            lost,
            [
                ("csrfmiddlewaretoken", csrf_token(form.text)),
                ("reference", reference.group(0)),
                ("document_number", document_number),
                ("website", ""),
            ],
        )
        tally.response("lost", done)
        if done.status == 302:
            tally.action("link resent")
    if n % 5 == 0:
        help_path = "/s/shipai/help/"
        form = client.get(help_path)
        tally.response("help-form", form)
        done = client.post_form(
            help_path,
            [
                ("csrfmiddlewaretoken", csrf_token(form.text)),
                ("category", "housing"),
                ("subject", f"Heating broken, flat of resident {n}"),
                ("description", "The heating has not worked for three days."),
                ("urgency", "normal"),
                ("contact_name", f"Resident {n}"),
                ("contact_method", "email"),
                ("email", f"helper{n}@example.org"),
                ("contact_time", "any"),
                ("language", "en"),
                ("website", ""),
            ],
        )
        tally.response("help", done)
        if done.status == 302:
            tally.action("asked for help")


# ------------------------------------------------------------------------------
# The stack
# ------------------------------------------------------------------------------
def _env(var: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "LINLI_VAR_DIR": str(var),
            "PORT": str(port),
            "SITE_URL": f"http://127.0.0.1:{port}",
            # Each simulated resident has its own address (X-Forwarded-For), as on a street.
            "TRUSTED_PROXIES": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _children(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        path = Path(f"/proc/{parent}/task/{parent}/children")
        kids = [int(p) for p in path.read_text().split()] if path.exists() else []
        found.extend(kids)
        todo.extend(kids)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def worker_pid(honcho_pid: int) -> int | None:
    """Return the pid of the Celery worker's main process under our honcho, if running."""
    for pid in _children(honcho_pid):
        line = _cmdline(pid)
        parent = _cmdline(int(Path(f"/proc/{pid}/stat").read_text().split()[3]))
        is_worker = " worker " in f"{line} " and "celery" in line and "keep-running" not in line
        if is_worker and "keep-running" in parent:  # its main process, not a pool child
            return pid
    return None


def _django(var: Path, port: int, code: str) -> dict:
    out = subprocess.run(  # noqa: S603 - our own manage.py
        [PY, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=_env(var, port),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


OUTBOX = """
import json
from django.db.models import Count
from inquiries.models import Inquiry
from notifications.models import Message
from registration.models import Registration

out_of_order = 0
last = {}
for to, sent_at in Message.objects.filter(status="sent").order_by("pk").values_list("to", "sent_at"):
    if to in last and sent_at < last[to]:
        out_of_order += 1  # made after an earlier message to the same person, sent before it
    last[to] = max(sent_at, last.get(to, sent_at))
print(json.dumps({
    "statuses": dict(Message.objects.values_list("status").annotate(n=Count("id"))),
    "templates": dict(Message.objects.values_list("template").annotate(n=Count("id"))),
    "registrations": Registration.objects.count(),
    "inquiries": Inquiry.objects.count(),
    "out_of_order": out_of_order,
}))
"""


def deliveries(mail_dir: Path) -> list[tuple[float, str, str]]:
    """Return (file time, recipient, subject) of every email the console backend kept."""
    found = []
    for path in sorted(mail_dir.glob("*")):
        text = path.read_text(errors="replace")
        for chunk in text.split("-" * 79):
            if "Subject:" not in chunk:
                continue
            message = email.message_from_string(chunk.strip())
            found.append((path.stat().st_mtime, message["To"] or "", message["Subject"] or ""))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--max-residents", type=int, default=5000)
    parser.add_argument("--visitors", type=int, default=2, help="residents at once")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between residents")
    parser.add_argument("--kill-worker-at", type=float, default=None, help="seconds (default: 1/3)")
    parser.add_argument("--drain-seconds", type=float, default=240.0)
    args = parser.parse_args()

    var = ROOT / "var" / "soak"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    port = free_port()
    env = _env(var, port)
    print(f"soak: data in {var}, portal on http://127.0.0.1:{port}/", flush=True)
    for command in (["migrate", "--no-input", "-v", "0"], ["seed_demo"]):
        subprocess.run(  # noqa: S603 - our own manage.py
            [PY, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    log = (var / "honcho.log").open("w")
    honcho = subprocess.Popen(  # noqa: S603 - our own venv's honcho
        [str(ROOT / ".venv" / "bin" / "honcho"), "start", "-f", "Procfile"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    tally = Tally()
    probe = {"ok": 0, "down": 0, "longest_down": 0.0}
    kill = {"killed": None, "restarted": None, "seconds": None}
    try:
        probe_client = LocalClient(port, timeout=10)
        for _ in range(120):
            try:
                if probe_client.get("/healthz").status == 200 and worker_pid(honcho.pid):
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            print("soak: the stack did not come up; see var/soak/honcho.log")
            return 2

        start = time.monotonic()
        end = start + args.minutes * 60
        kill_at = start + (
            args.kill_worker_at if args.kill_worker_at is not None else args.minutes * 20
        )
        counter = iter(range(args.max_residents))
        counter_lock = threading.Lock()
        photo = small_photo(1)
        stop = threading.Event()

        def visitor():
            while time.monotonic() < end and not stop.is_set():
                with counter_lock:
                    n = next(counter, None)
                if n is None:
                    return
                try:
                    resident(LocalClient(port), n, photo, tally)
                except OSError as error:
                    tally.failure(f"resident {n}: {type(error).__name__}")
                time.sleep(args.pause)

        def prober():
            down_since = None
            while time.monotonic() < end and not stop.is_set():
                try:
                    ok = probe_client.get("/healthz").status == 200
                except OSError:
                    ok = False
                now = time.monotonic()
                if ok:
                    probe["ok"] += 1
                    if down_since is not None:
                        probe["longest_down"] = max(probe["longest_down"], now - down_since)
                    down_since = None
                else:
                    probe["down"] += 1
                    down_since = down_since or now
                time.sleep(2)

        threads = [threading.Thread(target=visitor) for _ in range(args.visitors)]
        threads.append(threading.Thread(target=prober))
        for thread in threads:
            thread.start()
        while time.monotonic() < end and any(t.is_alive() for t in threads[:-1]):
            if kill["killed"] is None and time.monotonic() >= kill_at:
                pid = worker_pid(honcho.pid)
                if pid:
                    os.kill(pid, signal.SIGKILL)
                    kill["killed"] = pid
                    killed_at = time.monotonic()
                    print(f"soak: killed the worker (pid {pid}) with SIGKILL", flush=True)
            if kill["killed"] and kill["restarted"] is None:
                pid = worker_pid(honcho.pid)
                if pid and pid != kill["killed"]:
                    kill["restarted"] = pid
                    kill["seconds"] = round(time.monotonic() - killed_at, 1)
                    print(f"soak: worker running again (pid {pid})", flush=True)
            if honcho.poll() is not None:
                tally.failure("honcho stopped: the portal went down")
                break
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)

        # Drain: every recorded message finished (sent, failed or cancelled).
        drain_end = time.monotonic() + args.drain_seconds
        while True:
            outbox = _django(var, port, OUTBOX)
            waiting = sum(
                n for status, n in outbox["statuses"].items() if status in ("created", "sending")
            )
            if not waiting or time.monotonic() > drain_end:
                break
            time.sleep(5)
        stack_up = honcho.poll() is None
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGTERM)
            try:
                honcho.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(honcho.pid, signal.SIGKILL)
        log.close()

    sent = deliveries(var / "mail")
    per_message = collections.Counter((to, subject) for _t, to, subject in sent)
    duplicates = sum(n - 1 for n in per_message.values() if n > 1)
    recorded = sum(outbox["statuses"].values())
    finished_sent = outbox["statuses"].get("sent", 0)
    report = {
        "minutes": args.minutes,
        "residents_registered": tally.actions["registered"],
        "departures": tally.actions["departed"],
        "links_resent": tally.actions["link resent"],
        "help_requests": tally.actions["asked for help"],
        "requests": sum(tally.statuses.values()),
        "statuses": dict(sorted(tally.statuses.items())),
        "5xx": sum(n for s, n in tally.statuses.items() if s >= 500),
        "client_errors": tally.errors[:20],
        "healthz_ok": probe["ok"],
        "healthz_down": probe["down"],
        "worker_killed": kill["killed"] is not None,
        "worker_restarted_after_s": kill["seconds"],
        "stack_up_at_end": stack_up,
        "registrations_stored": outbox["registrations"],
        "inquiries_stored": outbox["inquiries"],
        "messages_recorded": recorded,
        "messages_by_status": outbox["statuses"],
        "messages_by_template": outbox["templates"],
        "emails_delivered": len(sent),
        "emails_distinct": len(per_message),
        "duplicates": duplicates,
        "lost": recorded - finished_sent,
        "out_of_order": outbox["out_of_order"],
    }
    print(json.dumps(report, indent=2))
    healthy = (
        stack_up
        and report["5xx"] == 0
        and report["healthz_down"] == 0
        and report["duplicates"] == 0
        and report["lost"] == 0
        and (kill["killed"] is None or kill["restarted"] is not None)
    )
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
