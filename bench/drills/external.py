"""
Drills that are scripts of their own: 6 ``bench/drill_shutdown.py`` (SIGTERM to gunicorn)
and 8 ``bench/soak_embedded.py`` (the ``make run`` soak); their last JSON line is the row.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT
from bench.drills import VAR
from bench.drills.report import Row


def external(
    script: Path, args: list[str], timeout: float, log_path: Path
) -> tuple[int, dict, str]:
    """Run another drill script; return (exit status, its last JSON line, its last line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    with open(log_path, "w") as output:
        done = subprocess.run(  # noqa: S603 - a script of this repository
            [sys.executable, str(script), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=output,
            text=True,
            timeout=timeout,
        )
        output.write(done.stdout)
    found: dict = {}
    for line in reversed(done.stdout.strip().splitlines()):
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                found = value
                break
    last = (done.stdout.strip().splitlines() or [""])[-1][:200]
    return done.returncode, found, last


def _options(script: Path) -> str:
    with contextlib.suppress(Exception):
        return subprocess.run(  # noqa: S603 - a script of this repository
            [sys.executable, str(script), "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    return ""


KEYS = {
    "server_errors": ("5xx", "server_errors", "errors_5xx"),
    "lost_registrations": ("lost_registrations", "registrations_lost"),
    "lost_messages": ("lost_messages", "messages_lost", "lost"),
    "duplicates": ("duplicates", "duplicated"),
    "out_of_order": ("out_of_order", "disorder"),
}


def row_from_external(name: str, rc: int, found: dict, last: str, log_path: Path) -> Row:
    row = Row(name)
    for attribute, keys in KEYS.items():
        value = next((found[k] for k in keys if k in found), None)
        setattr(row, attribute, value if isinstance(value, int) else None)
    if "allowed_5xx" in found or "in_flight_killed" in found:
        row.allowed_5xx = int(found.get("allowed_5xx", found.get("in_flight_killed", 0)))
    shown = {k: v for k, v in found.items() if not any(k in keys for keys in KEYS.values())}
    if shown:
        row.notes.append(", ".join(f"{k} {v}" for k, v in shown.items())[:300])
    elif not found:
        row.notes.append(f"no JSON summary; last line: {last}")
    row.notes.append(f"exit {rc}, log {log_path.relative_to(ROOT)}")
    if rc:
        row.missed_own.append(f"{log_path.stem} exited {rc}")
    return row


def drill_shutdown_external(args) -> Row:
    script = ROOT / "bench" / "drill_shutdown.py"
    options = _options(script)
    argv = ["--short"] if args.short and "--short" in options else []
    argv += ["--json"] if "--json" in options else []
    log_path = VAR / "drill_shutdown.log"
    rc, found, last = external(script, argv, 900, log_path)
    return row_from_external(
        "6. SIGTERM to gunicorn (bench/drill_shutdown.py)", rc, found, last, log_path
    )


def drill_soak(args) -> Row:
    """8. ``make run`` soak (bench/soak_embedded.py, written with the embedded broker's fix)."""
    script = ROOT / "bench" / "soak_embedded.py"
    name = "8. `make run` soak"
    if not script.exists():
        return Row(name, skipped=True, notes=["skipped: bench/soak_embedded.py does not exist"])
    if args.soak_minutes <= 0:
        return Row(name, skipped=True, notes=["skipped: --soak-minutes 0 (the short form)"])
    options = _options(script)
    argv = ["--minutes", f"{args.soak_minutes:g}"]
    argv += ["--json"] if "--json" in options else []
    log_path = VAR / "soak_embedded.log"
    rc, found, last = external(script, argv, args.soak_minutes * 60 + 900, log_path)
    row = row_from_external(f"{name}, {args.soak_minutes:g} min", rc, found, last, log_path)
    return row
