"""
The processes of the two-node drill (``bench/drill_nodes.py``), each inside its host's
network namespace (``bench/drills/netns.py``): gunicorn with ``config/gunicorn.py``, a
Celery worker and (on the first node, or on both once beat failover exists) beat.

Every process is started with ``ip netns exec`` (which execs it: the process id is the
program's own), in a session of its own, and killed or stopped by that id or group only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, VENV_BIN, log
from bench.drills.balancer import NodeClient
from bench.drills.netns import Host, cpu_seconds
from bench.processes import CeleryProcess

WEB_PORT = 8000


class NsCelery(CeleryProcess):
    """A Celery worker or beat started inside a host's namespace."""

    def __init__(self, host: Host, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.host = host

    def command(self) -> list[str]:
        return self.host.command(super().command())


class NsWeb:
    """gunicorn (config/gunicorn.py) on ``host.address:8000`` inside the host's namespace."""

    def __init__(self, host: Host, env: dict, log_path: Path):
        self.host = host
        self.log_path = log_path
        self.env = {
            **env,
            "GUNICORN_BIND": f"{host.address}:{WEB_PORT}",
            "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_MAX_REQUESTS": "0",
            "GUNICORN_LOG_LEVEL": "warning",
        }
        self.process: subprocess.Popen | None = None

    def start(self, *, wait: bool = True) -> None:
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
                self.host.command(
                    [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"]
                ),
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 90) -> None:
        """Ready as the load balancer sees it: /readyz (database, broker, cache)."""
        deadline = time.monotonic() + timeout
        answer = "no answer"
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"gunicorn on {self.host.netns} exited; see {self.log_path}")
            client = NodeClient(self.host.address, WEB_PORT, timeout=5)
            try:
                response = client.get("/readyz")
                if response.status == 200:
                    return
                answer = f"{response.status} {response.text[:200]}"
            except OSError as error:
                answer = type(error).__name__
            finally:
                client.close()
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn on {self.host.netns} not ready ({answer})")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL the master and its workers at once (its process group): the node dies."""
        if self.process is None:
            return
        group = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait(10)
        # Until the last worker is gone its sockets still take requests (then reset them).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _group_alive(group):
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(45)
            except subprocess.TimeoutExpired:
                self.kill9()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None


def _group_alive(group: int) -> bool:
    """Whether a process of process group ``group`` still exists (zombies count as gone)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == group:
                return True
    return False


@dataclass
class Node:
    """One simulated server: its host, gunicorn, one worker, maybe a beat."""

    host: Host
    web: NsWeb
    worker: NsCelery
    beat: NsCelery | None = None

    @property
    def name(self) -> str:
        return self.host.name

    def processes(self) -> list:
        return [p for p in (self.worker, self.beat) if p is not None]

    def stop(self) -> None:
        for process in self.processes():
            with contextlib.suppress(Exception):
                process.stop(timeout=15)
        with contextlib.suppress(Exception):
            self.web.stop()


def make_node(host: Host, env: dict, var: Path, *, with_beat: bool) -> Node:
    env = {**env, "BENCH_VAR_DIR": str(var / host.name)}  # static files per node
    worker = NsCelery(
        host,
        f"worker-{host.name}",
        [
            "worker",
            *("-n", f"node-{host.name}@%h", "--pool=prefork", "--concurrency=2"),
            *("--loglevel=INFO", "--without-gossip", "--without-mingle"),
        ],
        env,
        var / f"worker-{host.name}.log",
        ready=" ready.",
    )
    beat = None
    if with_beat:
        beat = NsCelery(
            host,
            f"beat-{host.name}",
            ["beat", "-s", str(var / host.name / "celerybeat-schedule"), "--loglevel=INFO"],
            env,
            var / f"beat-{host.name}.log",
            ready="beat: Starting",
        )
    return Node(host, NsWeb(host, env, var / f"gunicorn-{host.name}.log"), worker, beat)


@dataclass
class CpuMeter:
    """CPU seconds of every process inside each host, sampled each second (a killed
    process keeps its last sample)."""

    hosts: list[Host]
    seen: dict = field(default_factory=dict)  # (host, pid) -> (seconds, name)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def sample(self) -> None:
        for host in self.hosts:
            for pid in host.pids():
                seconds = cpu_seconds(pid)
                if seconds:
                    try:
                        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                        name = " ".join(part.decode(errors="replace") for part in cmd)
                    except OSError:
                        name = "?"
                    old = self.seen.get((host.name, pid), (0.0, name))
                    self.seen[(host.name, pid)] = (max(old[0], seconds), old[1] or name)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            with contextlib.suppress(Exception):
                self.sample()

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):
            self.sample()

    def by_node(self) -> dict[str, dict[str, float]]:
        """{node: {"web": s, "worker": s, "beat": s, "total": s}}."""
        totals: dict[str, dict[str, float]] = {}
        for (node, _pid), (seconds, name) in self.seen.items():
            role = (
                "web"
                if "gunicorn" in name
                else "beat"
                if " beat" in name
                else "worker"
                if "celery" in name
                else "other"
            )
            parts = totals.setdefault(node, {"web": 0.0, "worker": 0.0, "beat": 0.0})
            parts[role] = parts.get(role, 0.0) + seconds
        for parts in totals.values():
            parts["total"] = sum(parts.values())
        return totals


class Supervisor:
    """What systemd's ``Restart=on-failure`` (deploy/systemd, 5 s) does for the workers: one
    that dies on its own (not killed by the drill) is started again after 5 s; each death
    is noted with its exit status and the last critical line of its log."""

    def __init__(self, nodes: list[Node], started: float):
        self.nodes = nodes
        self.started = started
        self.paused: set[str] = set()  # killed on purpose: the drill restarts it itself
        self.notes: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for node in self.nodes:
                worker = node.worker
                process = worker.process
                if worker.name in self.paused or process is None or process.poll() is None:
                    continue
                died = time.monotonic() - self.started
                why = _last_critical(worker)
                log(f"   {died:5.1f} s: {worker.name} died on its own (exit {process.returncode})")
                if self._stop.wait(5):
                    return
                worker.start(wait=False)
                self.notes.append(
                    f"{worker.name} died on its own at {died:.0f} s (exit "
                    f"{process.returncode}{': ' + why if why else ''}); started again 5 s later"
                )


def _last_critical(process) -> str:
    for line in reversed(process.log_since(process.offset).splitlines()):
        if '"CRITICAL"' in line:
            with contextlib.suppress(ValueError):
                return json.loads(line).get("message", "")[:160]
    return ""
