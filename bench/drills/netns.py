"""
Two hosts on this machine for the two-node drill (``bench/drill_nodes.py``): network
namespaces ``linli-nodes-a`` and ``linli-nodes-b``, each with its own address on a bridge
``linli-nodes-br`` whose address in the root namespace (``HOST``) is where the shared
services listen (PostgreSQL through a forwarder, Redis, the S3 server).

    root namespace  linli-nodes-br 10.231.13.1/24
      ├─ veth linli-nodes-a ── eth0 10.231.13.11/24 in namespace linli-nodes-a
      └─ veth linli-nodes-b ── eth0 10.231.13.12/24 in namespace linli-nodes-b

Every name starts with ``linli-nodes`` and every address is in 10.231.13.0/24, so nothing
of the machine or of another drill is touched; ``teardown()`` removes all of it (and kills
what still runs inside, by process id) and is safe to call twice or after a crash.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

PREFIX = "linli-nodes"
BRIDGE = f"{PREFIX}-br"
HOST = "10.231.13.1"
NETMASK = 24
IP = shutil.which("ip") or "/usr/sbin/ip"


@dataclass(frozen=True)
class Host:
    """One simulated server: a namespace, its veth pair and its address."""

    name: str  # "a" or "b"
    address: str

    @property
    def netns(self) -> str:
        return f"{PREFIX}-{self.name}"

    @property
    def veth(self) -> str:  # the root namespace's end
        return f"{PREFIX}-{self.name}"

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside this host (``ip netns exec`` execs it: same process id)."""
        return [IP, "netns", "exec", self.netns, *argv]

    def pids(self) -> list[int]:
        done = subprocess.run(  # noqa: S603 - iproute2, our own namespace's name
            [IP, "netns", "pids", self.netns], capture_output=True, text=True, check=False
        )
        return [int(p) for p in done.stdout.split() if p.isdigit()]


HOSTS = [Host("a", "10.231.13.11"), Host("b", "10.231.13.12")]


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([IP, *args], capture_output=True, text=True, check=check)  # noqa: S603


def blocked() -> str:
    """Why namespaces cannot be made here ("" when they can)."""
    if not shutil.which(IP):
        return "the ip command (iproute2) is missing"
    if os.geteuid() != 0:
        return "network namespaces need root (run as root or with CAP_NET_ADMIN)"
    probe = f"{PREFIX}-probe"
    _ip("netns", "del", probe, check=False)
    done = _ip("netns", "add", probe, check=False)
    if done.returncode != 0:
        return f"ip netns add failed: {done.stderr.strip()[:200]}"
    _ip("netns", "del", probe, check=False)
    done = _ip("link", "add", f"{PREFIX}-pr", "type", "bridge", check=False)
    if done.returncode != 0:
        return f"ip link add type bridge failed: {done.stderr.strip()[:200]}"
    _ip("link", "del", f"{PREFIX}-pr", check=False)
    return ""


def setup() -> None:
    """Make the bridge, both namespaces and their veth pairs (after removing leftovers)."""
    teardown()
    _ip("link", "add", BRIDGE, "type", "bridge")
    _ip("addr", "add", f"{HOST}/{NETMASK}", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    for host in HOSTS:
        _ip("netns", "add", host.netns)
        _ip("link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
        _ip("link", "set", host.veth, "master", BRIDGE)
        _ip("link", "set", host.veth, "up")
        inside = ("-n", host.netns)
        _ip(*inside, "addr", "add", f"{host.address}/{NETMASK}", "dev", "eth0")
        _ip(*inside, "link", "set", "eth0", "up")
        _ip(*inside, "link", "set", "lo", "up")


def kill_inside(host: Host) -> int:
    """SIGKILL every process still running inside ``host`` (by id); return how many."""
    killed = 0
    for pid in host.pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def teardown() -> None:
    """Remove the namespaces (killing what runs inside), the veths and the bridge."""
    existing = _ip("netns", "list", check=False).stdout
    for host in HOSTS:
        if host.netns in existing:
            kill_inside(host)
            _ip("netns", "del", host.netns, check=False)
        _ip("link", "del", host.veth, check=False)
    _ip("link", "del", BRIDGE, check=False)
    for leftover in Path("/run/netns").glob(f"{PREFIX}-*"):
        _ip("netns", "del", leftover.name, check=False)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` itself (0 when gone; children are sampled on
    their own, so a reaped child is not counted twice)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime stime
    return ticks / os.sysconf("SC_CLK_TCK")
