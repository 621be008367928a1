"""
Processes the fault drills start, break and restart: a ``redis-server`` of their own and
Celery workers or beat in process groups of their own (``kill -9`` takes a worker whole).

Used by ``bench/drill.py`` and the drill tests (``tests/drills/``). Everything listens on
the loopback only; every process is stopped by its own id (or its own process group).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bench.common import LOOPBACK, ROOT, VENV_BIN, free_port


class RedisServer:
    """A ``redis-server`` of the drill's own on a loopback port: no persistence, like a crash."""

    def __init__(
        self, log_path: Path, port: int | None = None, bind: str = LOOPBACK, password: str = ""
    ):
        self.port = port or free_port()
        # The two-node drill binds it to its bridge address, where Redis needs a password
        # (protected mode refuses other hosts without one), as in production.
        self.bind = bind
        self.password = password
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{self.bind}:{self.port}/0"

    def start(self, timeout: float = 15) -> None:
        import redis

        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - the system's redis-server
                [
                    shutil.which("redis-server") or "redis-server",
                    *("--port", str(self.port), "--bind", self.bind),
                    *("--save", "", "--appendonly", "no"),
                    *(("--requirepass", self.password) if self.password else ()),
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not start on port {self.port}; see {self.log_path}")

    def stop(self) -> None:
        """Stop our redis-server (SIGTERM to its own process id); its data is gone."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


class CeleryProcess:
    """One ``celery`` worker or beat in its own process group (so ``kill -9`` takes it whole)."""

    def __init__(self, name: str, argv: list[str], env: dict, log_path: Path, ready: str):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.ready_text = ready
        self.process: subprocess.Popen | None = None
        self.offset = 0
        self.starts = 0

    def command(self) -> list[str]:
        """The command line; a host of the two-node drill wraps it (bench/drills/nodes.py)."""
        return [str(VENV_BIN / "celery"), "-A", "config", *self.argv]

    def start(self, *, wait: bool = True, timeout: float = 90) -> None:
        self.offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own venv's celery
                self.command(),
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        if wait:
            self.wait_ready(timeout)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def is_ready(self) -> bool:
        if not self.alive:
            return False
        with open(self.log_path, "rb") as handle:
            handle.seek(self.offset)
            return self.ready_text.encode() in handle.read()

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_ready():
                return
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready in {timeout} s; see {self.log_path}")

    def children(self) -> list[int]:
        """The process ids of the pool children (prefork) of this worker."""
        if not self.alive:
            return []
        pid = self.process.pid
        with contextlib.suppress(OSError):
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(stat.parent.name))
        return children

    def kill9(self) -> None:
        """``kill -9`` this worker's process group (the main process and its children)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 30) -> None:
        """Warm shutdown (SIGTERM: finish the tasks under way), then SIGKILL if it hangs."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # children left behind, if any
        self.process = None

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0
