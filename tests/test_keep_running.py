"""bin/keep-running: a dead process of `make run` is started again; a stop stops it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

WRAPPER = Path(__file__).resolve().parent.parent / "bin" / "keep-running"


def _wait_for(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_a_worker_killed_with_kill_9_is_started_again_and_a_stop_stops_it(tmp_path):
    started = tmp_path / "started"
    # The "worker": notes its pid, then waits to be killed.
    child = (
        f"import os, time; open({str(started)!r}, 'a').write(f'{{os.getpid()}} '); time.sleep(60)"
    )
    wrapper = subprocess.Popen(
        [sys.executable, str(WRAPPER), "worker", sys.executable, "-c", child],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(lambda: len(_lines(started)) == 1)
        os.kill(int(_lines(started)[0]), signal.SIGKILL)
        assert _wait_for(lambda: len(_lines(started)) == 2), "not started again"
        assert wrapper.poll() is None  # the wrapper (what honcho watches) never exited

        wrapper.send_signal(signal.SIGTERM)  # honcho's stop, or Ctrl-C
        wrapper.wait(timeout=20)
        time.sleep(1.5)  # longer than the first restart delay
        assert len(_lines(started)) == 2  # stopped for good, not started a third time
        second = int(_lines(started)[1])
        assert _wait_for(lambda: not _alive(second), seconds=5)  # the command went too
        assert "worker exited with signal 9" in wrapper.stderr.read()
    finally:
        if wrapper.poll() is None:
            wrapper.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone as far as work goes.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_a_command_that_keeps_dying_is_started_again_more_and_more_slowly(tmp_path):
    started = tmp_path / "started"
    child = f"open({str(started)!r}, 'a').write('x '); raise SystemExit(3)"
    wrapper = subprocess.Popen(
        [sys.executable, str(WRAPPER), "beat", sys.executable, "-c", child],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(4.5)  # starts at 0, ~1 s, ~3 s (waits 1, 2, then 4 s)
        assert len(_lines(started)) == 3
    finally:
        wrapper.send_signal(signal.SIGTERM)
        wrapper.wait(timeout=20)
    assert "beat exited with status 3" in wrapper.stderr.read()
