"""
The two-node drill itself (``bench/drill_nodes.py`` sets up the hosts and the services):
residents register with photos through the balancer while one web node is killed with
SIGKILL, one worker and the sending beat with ``kill -9``, and Redis is restarted; then
the counts.

The project's modules are imported inside the functions: they run after ``django.setup()``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, log
from bench.drills.balancer import Balancer, SpreadClient
from bench.drills.nodes import WEB_PORT, CpuMeter, Node, Supervisor
from bench.drills.report import Row, messages_into
from bench.drills.residents import next_resident
from bench.drills.tally import message_last_pk, messages_tally, registrations_tally, settle
from bench.journeys import register
from bench.processes import RedisServer

VAR_BEATS = ROOT / "var" / "drill-nodes" / "beats"
STEPS = ("form", "review", "thumbnail", "submit", "receipt")


@dataclass
class Timeline:
    """When each fault happens, as fractions of the load's duration."""

    kill_web: float = 0.25
    kill_worker: float = 0.40
    restart_worker: float = 0.50
    restart_redis: float = 0.60
    restart_web: float = 0.75


@dataclass
class Outcome:
    events: list[tuple[float, str]] = field(default_factory=list)
    killed_web_at: float | None = None  # when the killed node's last process was gone
    started: float = 0.0
    results: list = field(default_factory=list)  # (n, FlowResult, served)


def _load(balancer: Balancer, files, *, seconds: float, parallel: int, out: Outcome) -> list:
    """``parallel`` residents register one after another until ``seconds`` have passed.
    Even-numbered ones stick to a node, odd-numbered ones go round-robin per request."""
    from bench.drills import STATIONS

    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    names = list(balancer.nodes)

    def resident():
        while time.monotonic() < deadline:
            n = next_resident()
            ip = f"10.{60 + n // 62500}.{n // 250 % 250}.{n % 250 + 1}"
            sticky = names[(n // 2) % len(names)] if n % 2 == 0 else None
            client = SpreadClient(balancer, client_ip=ip, sticky=sticky)
            try:
                result = register(
                    client,
                    STATIONS[n % len(STATIONS)],
                    n,
                    files,
                    thumbnails=True,
                )
            finally:
                client.close()
            with lock:
                out.results.append((n, result, dict(client.served)))

    threads = [threading.Thread(target=resident, daemon=True) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    return threads


def _beat_failover(nodes: list[Node], env: dict, *, seconds: float, short: bool, out: dict):
    """Drill 9's two beats (bench/drills/beat.py), one in each node's namespace, during the
    load: the one holding the lock gets ``kill -9`` after a quarter of it; the counts go to
    ``out``. The nodes' own beats are stopped meanwhile (SIGTERM releases the lock)."""
    from bench.drills.beat import beat_failover
    from config.settings.beat import BEAT_LOCK_TIMEOUT, BEAT_TICK

    for node in nodes:
        if node.beat is not None:
            node.beat.stop(timeout=15)
    try:
        out.update(
            beat_failover(
                env,
                VAR_BEATS,
                lock_timeout=5 if short else BEAT_LOCK_TIMEOUT,
                tick=1 if short else BEAT_TICK,
                interval=float(env.get("DRILL_SWEEP_EVERY") or 5),
                before=seconds * 0.25,
                after=seconds * 0.3,
                prefixes=tuple(node.host.command([]) for node in nodes),
            )
        )
    except Exception as error:  # the row says so; the load goes on
        out["error"] = f"{type(error).__name__}: {error}"[:300]
    finally:
        for node in nodes:
            if node.beat is not None:
                node.beat.start(wait=False)


def run(
    nodes: list[Node],
    redis: RedisServer,
    files,
    *,
    seconds: float,
    parallel: int,
    settle_seconds: float,
    env: dict,
    short: bool,
    timeline: Timeline | None = None,
) -> tuple[Row, dict]:
    """Run the load with the faults; return the table row and the detailed counts."""
    timeline = timeline or Timeline()
    first = message_last_pk()
    victim_web, victim_worker = nodes[0], nodes[1]
    balancer = Balancer({n.name: (n.host.address, WEB_PORT) for n in nodes})
    meter = CpuMeter([n.host for n in nodes])
    meter.sample()
    baseline = meter.by_node()
    meter.start()
    out = Outcome()
    started = out.started = time.monotonic()
    beat_result: dict = {}
    beats = threading.Thread(
        target=_beat_failover,
        args=(nodes, env),
        kwargs={"seconds": seconds, "short": short, "out": beat_result},
        daemon=True,
    )

    def at(fraction: float) -> None:
        time.sleep(max(0.0, started + seconds * fraction - time.monotonic()))

    def event(text: str) -> None:
        out.events.append((time.monotonic() - started, text))
        log(f"   {time.monotonic() - started:5.1f} s: {text}")

    supervisor = Supervisor(nodes, started)
    supervisor.start()
    log(f"   {parallel} residents register with photos for {seconds:.0f} s over both nodes")
    threads = _load(balancer, files, seconds=seconds, parallel=parallel, out=out)
    beats.start()
    at(timeline.kill_web)
    victim_web.web.kill9()
    out.killed_web_at = time.monotonic()  # the last of its processes is gone
    event(f"web node {victim_web.name}: gunicorn master and workers killed (SIGKILL)")
    at(timeline.kill_worker)
    # Kill it while messages are being delivered (each takes DRILL_SEND_SECONDS).
    deadline = time.monotonic() + 5
    while _sending() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    supervisor.paused.add(victim_worker.worker.name)
    victim_worker.worker.kill9()
    event(
        f"worker on node {victim_worker.name}: kill -9 (process group); "
        f"{_sending()} messages 'sending' in all workers"
    )
    at(timeline.restart_worker)
    victim_worker.worker.start(wait=False)
    supervisor.paused.discard(victim_worker.worker.name)
    event(f"worker on node {victim_worker.name} restarted")
    at(timeline.restart_redis)
    # After the beats' takeover, not during it: a beat still waiting at start-up when Redis
    # restarts empty took the lock and sent nothing (see bench/README.md, "Two nodes").
    if _wait_takeover(beats, timeout=60):
        event("beat failover: the other beat holds the lock")
    redis.stop()
    redis.start()
    event("redis-server restarted (empty: queued tasks and cache lost)")
    at(timeline.restart_web)
    victim_web.web.start(wait=False)
    event(f"web node {victim_web.name}: gunicorn started again")
    for thread in threads:
        thread.join(seconds + 300)
    beats.join(seconds + 300)
    load_seconds = time.monotonic() - started
    victim_web.web.wait_ready()
    deadline = time.monotonic() + 90
    while not all(n.worker.is_ready() for n in nodes) and time.monotonic() < deadline:
        time.sleep(0.5)  # a worker that died on its own is being started again
    supervisor.stop()
    log("   load over; waiting for the messages")
    pending = settle(first, settle_seconds)
    meter.stop()
    balancer.close()
    counts = _counts(out, balancer, victim_web.name, nodes, env, first)
    counts.update(
        load_seconds=round(load_seconds, 1),
        pending_messages=pending,
        events=[f"{t:.1f} s {text}" for t, text in out.events + _rel(balancer.events, started)],
        beat_failover=beat_result,
        died=supervisor.notes,
    )
    cpu = meter.by_node()
    counts["cpu_seconds"] = {
        node: {k: round(v - baseline.get(node, {}).get(k, 0.0), 1) for k, v in parts.items()}
        for node, parts in cpu.items()
    }
    return _row(counts), counts


def _rel(events, started):
    return [(t - started, text) for t, text in events]


def _counts(out: Outcome, balancer: Balancer, killed: str, nodes, env, first) -> dict:
    regs = registrations_tally([(n, r) for n, r, _served in out.results])
    killed_at = out.killed_web_at or 0.0
    in_flight = other_errors = server_5xx = 0
    failures: list[str] = []  # what failed other than in flight on the killed node
    in_flight_residents: set = set()
    served: dict[str, Counter] = defaultdict(Counter)
    for record in balancer.records:
        if isinstance(record.outcome, int):
            if record.outcome >= 500:
                server_5xx += 1
                failures.append(_failure(record, out.started))
            elif record.outcome < 400:
                served[record.step][record.node] += 1
            continue
        if record.node == killed and record.started <= killed_at:
            in_flight += 1
        else:
            other_errors += 1
            failures.append(_failure(record, out.started))
    # A resident whose flow ended on a request in flight on the killed node.
    for n, result, _served in out.results:
        last = result.statuses[-1] if result.statuses else None
        if isinstance(last, str) and not result.ok:
            in_flight_residents.add(n)
    names = {f"Bench{n}": n for n, _r, _s in out.results}
    from registration.models import Registration

    stored_names = set(
        Registration.objects.filter(resident__surname__in=list(names)).values_list(
            "resident__surname", flat=True
        )
    )
    submits = sum(r.submitted for _n, r, _s in out.results)
    # Stored although the confirm was never answered: it was in flight on the killed node.
    stored_in_flight = sum(
        1
        for n, r, _s in out.results
        if n in in_flight_residents and not r.submitted and f"Bench{n}" in stored_names
    )
    lost_in_flight = sum(
        1
        for n, r, _s in out.results
        if n in in_flight_residents and r.step == "submit" and f"Bench{n}" not in stored_names
    )
    messages = messages_tally(first)
    readback = {node.name: _readback(node, env) for node in nodes}
    static = {node.name: _static(node) for node in nodes}
    uploaded_via = {f"Bench{n}": s.get("review") for n, _r, s in out.results}
    cross = Counter()
    for node_name, answer in readback.items():
        for surname, (ok, total) in (answer.get("by_surname") or {}).items():
            via = uploaded_via.get(surname)
            if via and via != node_name:
                cross["documents"] += total
                cross["read"] += ok
    return {
        "residents": len(out.results),
        "registrations": regs,
        "submits": submits,
        "stored": len(stored_names),
        "stored_from_in_flight": stored_in_flight,
        "lost_in_flight": lost_in_flight,
        "5xx": server_5xx,
        "in_flight_on_killed": in_flight,
        "other_errors": other_errors,
        "failures": failures,
        "served": {step: dict(served[step]) for step in STEPS},
        "messages": messages,
        "readback": {
            k: {x: v.get(x) for x in ("documents", "read", "failed", "error")}
            for k, v in readback.items()
        },
        "read_through_other_node": dict(cross),
        "static": static,
    }


def _sending() -> int:
    from notifications.constants import MessageStatus
    from notifications.models import Message

    return Message.objects.filter(status=MessageStatus.SENDING).count()


def _wait_takeover(beats: threading.Thread, timeout: float) -> bool:
    """Wait until the second beat of drill 9 took the lock (two "Acquired lock" lines)."""
    from bench.drills.beat import Beat

    logs = [
        Beat(path.stem, {}, path) for path in (VAR_BEATS / "beat-1.log", VAR_BEATS / "beat-2.log")
    ]
    deadline = time.monotonic() + timeout
    while beats.is_alive() and time.monotonic() < deadline:
        locks = sum(1 for b in logs for _t, kind, _n in b.events() if kind == "lock")
        if locks >= 2:
            return True
        time.sleep(0.3)
    return False


def _failure(record, started: float) -> str:
    return (
        f"{record.step} on {record.node} at {record.started - started:.1f}-"
        f"{record.ended - started:.1f} s: {record.outcome}"
    )


def _static(node: Node) -> str:
    """GET one hashed static file from ``node`` (its own collected copy): "200 css" or why not."""
    from django.conf import settings

    from bench.drills.balancer import NodeClient

    manifest = Path(node.web.env["BENCH_VAR_DIR"]) / "static" / "staticfiles.json"
    try:
        paths = json.loads(manifest.read_text())["paths"]
        name = next(v for k, v in sorted(paths.items()) if k.endswith(".css"))
    except (OSError, ValueError, KeyError, StopIteration) as error:
        return f"no manifest ({type(error).__name__})"
    client = NodeClient(node.host.address, WEB_PORT, timeout=10)
    try:
        response = client.get(settings.STATIC_URL + name)
        return f"{response.status} {response.header('Content-Type').split(';')[0]}"
    except OSError as error:
        return type(error).__name__
    finally:
        client.close()


def _readback(node: Node, env: dict) -> dict:
    """Every stored document opened through ``node`` (inside its namespace)."""
    done = subprocess.run(  # noqa: S603 - our own venv's python, our own script
        node.host.command([sys.executable, "-m", "bench.drills.nodes_readback"]),
        cwd=ROOT,
        env={**node.web.env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    for line in reversed(done.stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return {"documents": None, "read": None, "error": done.stderr.strip()[-300:]}


def _row(c: dict) -> Row:
    regs = c["registrations"]
    row = Row("two nodes: web node killed, worker kill -9, Redis restarted")
    row.server_errors = c["5xx"] + c["in_flight_on_killed"] + c["other_errors"]
    row.allowed_5xx = c["in_flight_on_killed"]
    row.lost_registrations = max(0, regs.lost - c["lost_in_flight"])
    messages_into(row, c["messages"])
    row.notes.append(
        f"{c['residents']} residents; {c['stored']} registrations stored, "
        f"{c['submits']} successful submits"
        + (
            f" (+{c['stored_from_in_flight']} stored from a confirm in flight on the killed node)"
            if c["stored_from_in_flight"]
            else ""
        )
    )
    row.notes.append(
        f"5xx: {c['5xx']}; requests in flight on the killed node: {c['in_flight_on_killed']}; "
        f"other failed requests: {c['other_errors']}"
        + (f" ({'; '.join(c['failures'][:5])})" if c["failures"] else "")
    )
    row.notes.append(
        "steps served (a/b): "
        + ", ".join(
            f"{step} {c['served'][step].get('a', 0)}/{c['served'][step].get('b', 0)}"
            for step in STEPS
        )
    )
    cross = c["read_through_other_node"]
    row.notes.append(
        "documents read back: "
        + ", ".join(
            f"through {k} {v.get('read')}/{v.get('documents')}" for k, v in c["readback"].items()
        )
        + f"; through the node that did not receive the upload {cross.get('read', 0)}"
        f"/{cross.get('documents', 0)}"
    )
    row.notes.append(c["messages"].line())
    row.notes.append(
        "CPU-seconds: "
        + ", ".join(
            f"node {node} {parts['total']:.1f} (web {parts['web']:.1f}, worker "
            f"{parts['worker']:.1f}, beat {parts['beat']:.1f})"
            for node, parts in sorted(c["cpu_seconds"].items())
        )
        + (
            f"; {sum(p['total'] for p in c['cpu_seconds'].values()) / c['stored']:.2f} "
            "per stored registration"
            if c["stored"]
            else ""
        )
    )
    row.notes.append(
        "a static file from each node's own copy: "
        + ", ".join(f"{k} {v}" for k, v in c["static"].items())
    )
    for node, answer in c["static"].items():
        if not answer.startswith("200"):
            row.missed_own.append(f"static file not served by node {node}: {answer}")
    for node, answer in c["readback"].items():
        if answer.get("read") is None or answer.get("read") != answer.get("documents"):
            row.missed_own.append(f"documents not readable through node {node}: {answer}")
    if c["stored"] != c["submits"] + c["stored_from_in_flight"]:
        row.missed_own.append("registrations stored ≠ successful submits")
    for step in STEPS:
        if step == "thumbnail" and not any(c["served"][step].values()):
            continue  # the review page carries its thumbnails inline: no request to serve
        if len([n for n, k in c["served"][step].items() if k]) < 2:
            row.missed_own.append(f"step {step} not served by both nodes")
    beat = c["beat_failover"]
    if beat.get("error"):
        row.missed_own.append(f"beat failover broke: {beat['error']}")
    elif beat:
        from bench.drills.beat import beat_goals

        row.duplicates = (row.duplicates or 0) + beat["duplicates"]
        # The goals: one beat sends, the other takes over within a minute, nothing
        # twice. A slot missed while Redis restarts (the lock is lost with it) is shown only:
        # the sweep is idempotent and runs again at the next slot.
        # Likewise the killed beat, started again, may win the lock Redis lost on its restart
        # and send: the invariant is that no two beats send the same slot (duplicates).
        row.missed_own += [
            g
            for g in beat_goals(beat)
            if not g.startswith(("slots missed", "the restarted beat sent"))
        ]
        row.notes.append(
            f"beats in a and b (lock {beat['lock_timeout']} s, tick {beat['tick']} s): "
            f"{beat['sending_before_kill']} of 2 sending before the kill; {beat['killed']} "
            f"killed; the other took the lock after {beat['takeover_s']} s, sent after "
            f"{beat['first_send_s']} s; {beat['sends']} sweeps, {beat['duplicates']} twice, "
            f"{beat['missed']} slots missed outside the takeover (Redis restarted meanwhile); "
            "the killed beat back (it may win the lock Redis lost): "
            f"{beat['restarted_sends']} sends"
        )
    row.notes += c["died"]
    if c["pending_messages"]:
        row.notes.append(f"{c['pending_messages']} messages still waiting")
    return row
