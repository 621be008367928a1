"""
Fault: gunicorn is stopped (SIGTERM) or reloaded (SIGHUP) while residents confirm on
kept-alive connections. Runs ``bench/drill_shutdown.py``: no request may be cut off after it
was sent, no answered confirm may be missing, no failed one stored; a reload fails nothing.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

DRILL = Path(settings.BASE_DIR) / "bench" / "drill_shutdown.py"


def _drill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DRILL), "--clients", "8", "--before", "1.5", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sigterm_answers_kept_alive_requests_and_refuses_new_ones_cleanly():
    result = _drill()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reset 0  reset-new 0" in result.stdout
    assert "(lost): 0" in result.stdout and "(ambiguous): 0" in result.stdout


def test_a_graceful_reload_fails_no_request():
    result = _drill("--reload", "--after", "5")
    assert result.returncode == 0, result.stdout + result.stderr
