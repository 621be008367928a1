"""
Shared pieces of the benchmark and the load test: a small HTTP client, gunicorn, timing.

Everything here talks only to 127.0.0.1 and every loop is bounded in count and time.
The client is plain ``http.client`` with keep-alive, one connection per simulated visitor,
and it sends what nginx adds in production (``X-Forwarded-Proto: https`` and
``X-Forwarded-For``), so the production settings behave as behind the real proxy.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HOST = "linli.bench"  # in ALLOWED_HOSTS and SITE_URL of config.settings.bench
ORIGIN = f"https://{HOST}"
LOOPBACK = "127.0.0.1"


def log(message: str) -> None:
    """Print ``message`` with the UTC time, at once (bench runs are watched live)."""
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


def free_port() -> int:
    """Return a free TCP port on the loopback."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` percentile (0–100) of ``values`` (nearest rank), 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


# ------------------------------------------------------------------------------
# HTTP client
# ------------------------------------------------------------------------------
@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """One visitor: one keep-alive connection, its own cookies and client address."""

    def __init__(self, port: int, *, client_ip: str | None = None, timeout: float = 60):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        # The address nginx would put in X-Forwarded-For (gunicorn on the loopback, which
        # production's TRUSTED_PROXIES trusts).
        self.client_ip = client_ip or f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7"
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connection(self) -> http.client.HTTPConnection:
        # gunicorn closes idle keep-alive connections after `keepalive` seconds (5).
        if self.conn is not None and time.monotonic() - self.last_used > 3:
            self.close()
        if self.conn is None:
            self.conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=self.timeout)
        return self.conn

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
    ) -> Response:
        all_headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.client_ip,
            "User-Agent": "linli-bench/1",
            "Accept-Language": "en",
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            all_headers["Origin"] = ORIGIN
            all_headers["Referer"] = ORIGIN + path
        all_headers.update(headers or {})
        for attempt in (1, 2):
            conn = self._connection()
            reused = conn.sock is not None
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=all_headers)
                raw = conn.getresponse()
                data = raw.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                # A kept-alive connection the server had just closed: the request never
                # reached Django, so sending it again on a new connection is safe.
                if attempt == 1 and reused:
                    continue
                raise
            seconds = time.perf_counter() - start
            self.last_used = time.monotonic()
            response = Response(raw.status, raw.getheaders(), data, seconds)
            for key, value in response.headers:
                if key.lower() == "set-cookie":
                    cookie = SimpleCookie()
                    cookie.load(value)
                    for name, morsel in cookie.items():
                        if morsel["max-age"] == "0" or not morsel.value:
                            self.cookies.pop(name, None)
                        else:
                            self.cookies[name] = morsel.value
            if raw.will_close:
                self.close()
            return response
        raise AssertionError("unreachable")

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: list[tuple[str, str]]) -> Response:
        body = urlencode(fields).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_multipart(
        self, path: str, fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]
    ) -> Response:
        body, content_type = multipart(fields, files)
        return self.request("POST", path, body, {"Content-Type": content_type})


def multipart(fields, files) -> tuple[bytes, str]:
    """Encode ``fields`` [(name, value)] and ``files`` [(name, filename, bytes)]."""
    boundary = "----linlibench" + secrets.token_hex(12)
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, filename, content in files:
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    return match.group(1) if match else ""


# ------------------------------------------------------------------------------
# Throughput: N threads, each with its own keep-alive connection, for a fixed time
# ------------------------------------------------------------------------------
@dataclass
class Throughput:
    requests: int = 0
    errors: int = 0
    statuses: dict = field(default_factory=dict)
    seconds: float = 0.0
    latencies: list = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def hammer(port: int, path: str, *, seconds: float, threads: int, expect: int = 200) -> Throughput:
    """GET ``path`` from ``threads`` keep-alive clients for ``seconds``; count good answers."""
    result = Throughput()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    max_requests = 200_000  # bound even if the clock misbehaves

    def worker():
        client = Client(port, client_ip="10.0.0.1")
        ok = errors = 0
        statuses: dict = {}
        latencies = []
        try:
            while time.perf_counter() < deadline and ok + errors < max_requests:
                try:
                    response = client.get(path)
                except OSError:
                    errors += 1
                    continue
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status == expect:
                    ok += 1
                    latencies.append(response.seconds)
                else:
                    errors += 1
        finally:
            client.close()
        with lock:
            result.requests += ok
            result.errors += errors
            result.latencies += latencies
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(seconds + 120)
    result.seconds = time.perf_counter() - started
    return result


def compare_rps(
    port: int, target: str, baseline: str, *, rounds: int, seconds: float, threads: int
) -> tuple[Throughput, Throughput]:
    """Alternate target and baseline ``rounds`` times (drift hits both); sum each side."""
    hammer(port, target, seconds=1.5, threads=threads)  # warm every worker's caches
    hammer(port, baseline, seconds=1.5, threads=threads)
    totals = (Throughput(), Throughput())
    for _ in range(rounds):
        for total, path in zip(totals, (target, baseline), strict=True):
            one = hammer(port, path, seconds=seconds, threads=threads)
            total.requests += one.requests
            total.errors += one.errors
            total.seconds += one.seconds
            total.latencies += one.latencies
            for status, count in one.statuses.items():
                total.statuses[status] = total.statuses.get(status, 0) + count
    return totals


# ------------------------------------------------------------------------------
# gunicorn
# ------------------------------------------------------------------------------
def _proc_stat(pid: int) -> tuple[int, list[str]] | None:
    """(parent pid, the fields after the command name) of ``pid``, or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
    return int(fields[1]), fields


def process_tree_cpu_seconds(root: int) -> float:
    """
    User + system CPU seconds of process ``root`` and its descendants (Linux /proc), each
    including its reaped children (cutime, cstime), so a worker that exited still counts.
    """
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
    tree, frontier = set(), [root]
    while frontier:
        pid = frontier.pop()
        if pid in tree or pid not in stats:
            continue
        tree.add(pid)
        frontier += [child for child, (parent, _) in stats.items() if parent == pid]
    # Fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    return sum(sum(int(stats[pid][1][i]) for i in (11, 12, 13, 14)) for pid in tree) / tick


class Gunicorn:
    """gunicorn with config/gunicorn.py on a free loopback port; stopped by ``stop()``."""

    def __init__(self, env: dict, log_path: Path, *, workers: int | None = None, root: Path = ROOT):
        self.port = free_port()
        self.root = root  # the code served: this tree, or another checkout to compare with
        self.log_path = log_path
        self.env = {
            **env,
            "GUNICORN_BIND": f"{LOOPBACK}:{self.port}",
            "GUNICORN_ACCESS_LOG": "",  # no access log: it would cost as much as the view
            # No worker recycling during a measurement (production recycles every ~2000).
            "GUNICORN_MAX_REQUESTS": os.environ.get("BENCH_GUNICORN_MAX_REQUESTS", "0"),
            "GUNICORN_LOG_LEVEL": "warning",
        }
        if workers:
            self.env["WEB_CONCURRENCY"] = str(workers)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own venv gunicorn
            [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=self.root,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # Ready as the load balancer sees it: /readyz (database, broker, cache, migrations).
        deadline = time.monotonic() + timeout
        answer = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                client = Client(self.port, timeout=5)
                response = client.get("/readyz")
                client.close()
                if response.status == 200:
                    return
                answer = f"{response.status} {response.text[:200]}"
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn not ready in {timeout} s ({answer}); see {self.log_path}")

    def cpu_seconds(self) -> float:
        """
        CPU time (user + system) the server has used so far: the master and its live
        workers from their own /proc/<pid>/stat, plus what reaped workers left in the
        master's children counters. Take the difference of two readings.
        """
        if self.process is None:
            return 0.0
        return process_tree_cpu_seconds(self.process.pid)

    @property
    def workers(self) -> int:
        return int(self.env.get("WEB_CONCURRENCY") or min(2 * os.cpu_count() + 1, 12))

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # our own process only, by its id
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        self.log.close()


def median(values):
    return statistics.median(values) if values else 0.0
