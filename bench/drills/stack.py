"""The processes the drills break: Redis, gunicorn, two Celery workers and beat."""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import dataclass, field

from bench.common import Gunicorn
from bench.drills import VAR
from bench.processes import CeleryProcess, RedisServer


def worker(name: str, env: dict) -> CeleryProcess:
    return CeleryProcess(
        name,
        [
            "worker",
            *("-n", f"{name}@%h", "--pool=prefork", "--concurrency=2", "--loglevel=INFO"),
            # Start-up in a second instead of three; neither changes how tasks are delivered.
            *("--without-gossip", "--without-mingle"),
        ],
        env,
        VAR / f"{name}.log",
        ready=" ready.",
    )


def beat(env: dict) -> CeleryProcess:
    schedule = VAR / "celerybeat-schedule"
    return CeleryProcess(
        "beat",
        ["beat", "-s", str(schedule), "--loglevel=INFO"],
        env,
        VAR / "beat.log",
        ready="beat: Starting",
    )


@dataclass
class Stack:
    """Everything the drills break: Redis, gunicorn, two workers, beat."""

    env: dict
    redis: RedisServer
    gunicorn: Gunicorn | None = None
    workers: list[CeleryProcess] = field(default_factory=list)
    beat: CeleryProcess | None = None
    restarts: list[str] = field(default_factory=list)

    def ensure_up(self) -> list[str]:
        """Restart whatever died on its own (not killed by the drill); say what."""
        notes = []
        if self.redis.process is None or self.redis.process.poll() is not None:
            self.redis.start()
            notes.append("redis-server had stopped")
        for process in [*self.workers, self.beat]:
            if process is not None and not process.alive:
                notes.append(f"{process.name} had died (see {process.log_path.name})")
                process.start(wait=False)
        for process in [*self.workers, self.beat]:
            if process is not None and not process.is_ready():
                process.wait_ready()
        self.restarts += notes
        return notes

    def stop(self) -> None:
        for process in [*self.workers, self.beat]:
            if process is not None:
                with contextlib.suppress(Exception):
                    process.stop(timeout=15)
        if self.gunicorn is not None:
            with contextlib.suppress(Exception):
                self.gunicorn.stop()
        self.redis.stop()


@dataclass
class Context:
    stack: Stack
    args: argparse.Namespace
    files: list

    @property
    def port(self) -> int:
        return self.stack.gunicorn.port
