"""
Drill 9: two Celery beats on one Redis; the one that sends is killed with ``kill -9``.

With Redis, beat uses RedBeat's lock (``core/beat.py``, ``config/settings/beat.py``): every
node may run beat and only the holder of the lock sends. The drill starts two beats at once
(each in a process group of its own), finds from their logs which one took the lock, lets
them run, kills that one's process group with ``kill -9`` and counts from the two logs'
"Scheduler: Sending due task" lines (JSON, with their times):

- the beats that sent before the kill (goal: exactly one);
- seconds from the kill to the other beat's lock and to its first send (goal: under a
  minute with production's timings, ``BEAT_LOCK_TIMEOUT + BEAT_TICK`` at most);
- duplicates: a send of an entry less than half its interval after the previous send of
  the same entry, by either beat (goal: none);
- missed slots: intervals with no send, outside the takeover window (goal: none).

The killed beat is then started again, as systemd would, and must send nothing while the
other holds the lock.

``run_beat_failover(stack, ...)`` runs it on a drill stack (``bench/drills/stack.py``: its
``env``; its own beat, if any, is stopped meanwhile and started again after);
``beat_failover(env, log_dir, ...)`` needs only the environment of the beats (settings with
``REDIS_URL``) and is what the test (``tests/drills/test_beat_failover.py``) and other drills
call. ``prefixes`` runs each beat under a command (``["ip", "netns", "exec", "node1"]``).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, VENV_BIN, log
from bench.drills import VAR
from bench.drills.report import Row

SENDING = "Scheduler: Sending due task "
ACQUIRED = "beat: Acquired lock"


@dataclass
class Beat:
    """One ``celery beat`` in a process group of its own, logging to its own file."""

    name: str
    env: dict
    log_path: Path
    prefix: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own venv's celery
                [*self.prefix, str(VENV_BIN / "celery"), "-A", "config", "beat", "-l", "INFO"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill9(self) -> None:
        """``kill -9`` the beat's process group (our own process, by its id)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM (beat releases its lock), then SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill9()

    def events(self) -> list[tuple[float, str, str]]:
        """(UNIX time, "lock" or "send", entry name) of this beat's log, in order."""
        found = []
        if not self.log_path.exists():
            return found
        for line in self.log_path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            with contextlib.suppress(ValueError, KeyError):
                record = json.loads(line)
                message = record["message"]
                when = datetime.datetime.fromisoformat(record["time"]).timestamp()
                if message.startswith(ACQUIRED):
                    found.append((when, "lock", ""))
                elif message.startswith(SENDING):
                    found.append((when, "send", message[len(SENDING) :].split(" ")[0]))
        return found


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _slots(sends: list[float], interval: float, window: tuple[float, float]) -> tuple[int, int]:
    """(duplicates, missed slots) among one entry's send times; gaps ending in ``window``
    (from the kill to the new beat's first send) are the takeover, not missed slots."""
    duplicates = missed = 0
    for earlier, later in zip(sends, sends[1:], strict=False):
        gap = later - earlier
        if gap < interval / 2:
            duplicates += 1
        elif gap > interval * 1.5 and not window[0] <= later <= window[1] + 0.5:
            missed += round(gap / interval) - 1
    return duplicates, missed


def beat_failover(
    env: dict,
    log_dir: Path,
    *,
    lock_timeout: int = 30,
    tick: float = 5,
    interval: float = 2,
    entry: str = "notifications-sweep",
    before: float | None = None,
    after: float | None = None,
    prefixes: tuple[list[str], list[str]] = ([], []),
) -> dict:
    """Two beats, the one holding the lock killed with ``kill -9``; the counts (module doc).

    ``env`` is the beats' environment (settings with ``REDIS_URL`` that read the
    ``DRILL_BEAT_*`` variables, as ``config.settings.drill`` does: ``entry`` must run every
    ``interval`` seconds there). ``before``/``after``: seconds of sending watched before the
    kill and after the takeover (default: three intervals each).
    """
    before = 3 * interval if before is None else before
    after = 3 * interval if after is None else after
    beat_env = {
        **env,
        "DRILL_BEAT_LOCK_TIMEOUT": str(lock_timeout),
        "DRILL_BEAT_TICK": str(tick),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    beats = []
    for index, prefix in enumerate(prefixes, start=1):
        path = log_dir / f"beat-{index}.log"
        path.unlink(missing_ok=True)
        beats.append(Beat(f"beat-{index}", beat_env, path, list(prefix)))
    counts: dict = {"lock_timeout": lock_timeout, "tick": tick, "interval": interval}
    try:
        for beat in beats:
            beat.start()

        def holders() -> list[Beat]:
            return [b for b in beats if any(kind == "lock" for _, kind, _ in b.events())]

        if not _wait(holders, 60 + lock_timeout):
            raise RuntimeError("neither beat took the lock; see " + str(log_dir))
        time.sleep(before)
        active = holders()
        counts["holding_before_kill"] = len(active)
        counts["sending_before_kill"] = sum(
            1 for b in beats if any(kind == "send" for _, kind, _ in b.events())
        )
        victim = active[0]
        other = next(b for b in beats if b is not victim)
        counts["killed"] = victim.name
        killed_at = time.time()
        victim.kill9()

        def other_sent() -> list[float]:
            return [t for t, kind, _ in other.events() if kind == "send" and t > killed_at]

        _wait(other_sent, lock_timeout + tick + 60)
        locks = [t for t, kind, _ in other.events() if kind == "lock"]
        first = other_sent()
        counts["takeover_s"] = round(locks[-1] - killed_at, 1) if locks else None
        counts["first_send_s"] = round(first[0] - killed_at, 1) if first else None
        victim.start()  # as systemd would: it must wait, sending nothing
        restarted_at = time.time()
        time.sleep(after)
        counts["restarted_sends"] = sum(
            1 for t, kind, _ in victim.events() if kind == "send" and t > restarted_at
        )
        sends = sorted(
            t for b in beats for t, kind, name in b.events() if kind == "send" and name == entry
        )
        window = (killed_at, first[0] if first else time.time())
        counts["sends"] = len(sends)
        counts["duplicates"], counts["missed"] = _slots(sends, interval, window)
    finally:
        for beat in beats:
            beat.stop()
    return counts


def beat_stall(
    env: dict, log_dir: Path, *, lock_timeout: int, tick: float, interval: float
) -> dict:
    """Two beats; the sending one stopped (SIGSTOP) briefly, then longer than its lock.

    A beat that is slow but alive must keep its lock: a stall well under
    ``lock_timeout - tick`` leaves the other beat waiting. A stall longer than the lock lets
    the other take over; the stalled beat, continued, must find its lock gone and send
    nothing. Counts: ``short_stall_s``, ``other_sent_during_short`` (goal 0),
    ``long_stall_s``, ``other_took_over``, ``stalled_sends_after`` (goal 0),
    ``stalled_saw_lock_lost`` (its log says so), ``duplicates``.
    """
    beat_env = {
        **env,
        "DRILL_BEAT_LOCK_TIMEOUT": str(lock_timeout),
        "DRILL_BEAT_TICK": str(tick),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    beats = []
    for index in (1, 2):
        path = log_dir / f"stall-beat-{index}.log"
        path.unlink(missing_ok=True)
        beats.append(Beat(f"beat-{index}", beat_env, path))
    counts: dict = {}
    try:
        for beat in beats:
            beat.start()
        if not _wait(lambda: [b for b in beats if _took_lock(b)], 60 + lock_timeout):
            raise RuntimeError("neither beat took the lock; see " + str(log_dir))
        time.sleep(2 * interval)
        slow = next(b for b in beats if _took_lock(b))
        other = next(b for b in beats if b is not slow)
        counts["short_stall_s"] = short = max(0.5, lock_timeout - 3 * tick)
        started = time.time()
        _pause(slow, short)
        time.sleep(2 * interval)
        counts["other_sent_during_short"] = sum(
            1 for t, kind, _ in other.events() if kind == "send" and t > started
        )
        counts["long_stall_s"] = long = lock_timeout + 2 * tick + interval
        started = time.time()
        _pause(slow, long)
        resumed = time.time()
        counts["other_took_over"] = any(
            kind == "send" and t > started for t, kind, _ in other.events()
        )
        time.sleep(3 * interval)
        counts["stalled_sends_after"] = sum(
            1 for t, kind, _ in slow.events() if kind == "send" and t > resumed
        )
        counts["stalled_saw_lock_lost"] = "Lost the lock" in slow.log_path.read_text()
        sends = sorted(t for b in beats for t, kind, _ in b.events() if kind == "send")
        counts["duplicates"], _missed = _slots(sends, interval, (0, 0))
    finally:
        for beat in beats:
            if beat.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(beat.process.pid, signal.SIGCONT)
            beat.stop()
    return counts


def _took_lock(beat: Beat) -> bool:
    return any(kind == "lock" for _, kind, _ in beat.events())


def _pause(beat: Beat, seconds: float) -> None:
    """SIGSTOP the beat's process group for ``seconds`` (a stall), then SIGCONT."""
    os.killpg(beat.process.pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.killpg(beat.process.pid, signal.SIGCONT)


def run_beat_failover(stack, *, short: bool = True, log_dir: Path = VAR, **options) -> dict:
    """``beat_failover`` on a drill stack: its beat stopped meanwhile, started again after.

    ``short``: a lock of 5 s and a tick of 1 s (takeover in seconds); otherwise production's
    timings (``config/settings/beat.py``: 30 s and 5 s), which the goal of a minute is about.
    The sweep's interval is the stack's ``DRILL_SWEEP_EVERY``.
    """
    from config.settings.beat import BEAT_LOCK_TIMEOUT, BEAT_TICK

    options.setdefault("lock_timeout", 5 if short else BEAT_LOCK_TIMEOUT)
    options.setdefault("tick", 1 if short else BEAT_TICK)
    options.setdefault("interval", float(stack.env.get("DRILL_SWEEP_EVERY") or 5))
    own = getattr(stack, "beat", None)
    if own is not None:
        own.stop(timeout=15)  # SIGTERM: it releases the lock
    try:
        return beat_failover(stack.env, log_dir, **options)
    finally:
        if own is not None:
            own.start(wait=False)


def beat_goals(counts: dict, *, within: float = 60) -> list[str]:
    """The goals drill 9 missed, as "MISSED: …" notes say them."""
    missed = []
    if counts.get("sending_before_kill") != 1 or counts.get("holding_before_kill") != 1:
        missed.append(
            f"{counts.get('sending_before_kill')} beats sent and "
            f"{counts.get('holding_before_kill')} held the lock before the kill (goal: one)"
        )
    first = counts.get("first_send_s")
    if first is None or first >= within:
        missed.append(f"no send by the other beat within {within:.0f} s of the kill")
    if counts.get("missed"):
        missed.append(f"slots missed outside the takeover: {counts['missed']}")
    if counts.get("restarted_sends"):
        missed.append(f"the restarted beat sent {counts['restarted_sends']} tasks")
    return missed


def drill_beat_failover(ctx) -> Row:
    """9. Two beats; the one holding the lock killed with kill -9."""
    row = Row("9. beat kill -9 (two beats)", None, None, None, out_of_order=None)
    short = ctx.args.short
    log(f"   two beats ({'lock 5 s, tick 1 s' if short else 'production timings'}); kill -9")
    counts = run_beat_failover(ctx.stack, short=short)
    row.duplicates = counts["duplicates"]
    row.missed_own += beat_goals(counts)
    row.notes.append(
        f"lock {counts['lock_timeout']} s, tick {counts['tick']} s, sweep every "
        f"{counts['interval']:g} s; {counts['sending_before_kill']} of 2 beats sending before "
        f"the kill; {counts['killed']} killed; the other took the lock after "
        f"{counts['takeover_s']} s and sent after {counts['first_send_s']} s; "
        f"{counts['sends']} sends, {counts['missed']} slots missed outside the takeover; "
        f"the killed beat started again: {counts['restarted_sends']} sends"
    )
    return row
