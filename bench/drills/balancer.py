"""
The two-node drill's load balancer, inside the load generator: each simulated resident's
requests go round-robin over the web nodes that are up (or stick to one node), the way
nginx's ``upstream`` with ``proxy_next_upstream error`` spreads them:

- a node that refuses a connection is marked down and the request goes to the next node
  (it never reached the refused node, so that is safe even for a POST);
- a request cut while in flight (reset, closed) is *not* sent again: like nginx for a POST,
  the resident gets an error; the drill counts these per node and time;
- a node marked down is probed on ``/readyz`` every half second and comes back when ready.

Every request is recorded (node, step, outcome, start, end) for the drill's counts.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass

from bench.common import Client, Response


class NodeClient(Client):
    """bench.common.Client talking to one node's address instead of the loopback."""

    def __init__(self, address: str, port: int, **kwargs):
        super().__init__(port, **kwargs)
        self.address = address
        self.kept = False  # the current request went out on a kept-alive connection

    def _connection(self):
        if self.conn is not None and time.monotonic() - self.last_used > 3:
            self.close()
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.address, self.port, timeout=self.timeout)
        elif self.conn.sock is not None:
            self.kept = True
        return self.conn

    def request(self, method, path, body=None, headers=None) -> Response:
        self.kept = False
        try:
            return super().request(method, path, body, headers)
        except ConnectionRefusedError:
            if self.kept:
                # The kept-alive connection was reset, then the node refused a new one: the
                # request may have been under way when the node died. Never resend it.
                raise ConnectionResetError("reset, then refused: node gone") from None
            raise


@dataclass
class Record:
    node: str
    step: str
    outcome: int | str  # HTTP status, or the exception's name
    started: float
    ended: float


def step_of(method: str, path: str, headers: dict | None) -> str:
    """The step of a registration (journeys.register) a request belongs to."""
    content_type = (headers or {}).get("Content-Type", "")
    if "/registration/photo/" in path:
        return "thumbnail"
    if method == "POST":
        return "review" if content_type.startswith("multipart/") else "submit"
    if path.endswith("/register/"):
        return "form"
    return "receipt" if "/registration/" in path else "other"


class Balancer:
    """Round-robin over the nodes that are up; marks a refusing node down, probes it back."""

    def __init__(self, nodes: dict[str, tuple[str, int]]):
        self.nodes = nodes  # name -> (address, port)
        self.up = dict.fromkeys(nodes, True)
        self.records: list[Record] = []
        self.events: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self._turn = itertools.count()
        self._stop = threading.Event()
        self._prober = threading.Thread(target=self._probe, daemon=True)
        self._prober.start()

    def pick(self, home: str | None) -> str | None:
        with self.lock:
            alive = [name for name in self.nodes if self.up[name]]
            if not alive:
                return None
            if home in alive:
                return home
            return alive[next(self._turn) % len(alive)]

    def down(self, name: str) -> None:
        with self.lock:
            if self.up[name]:
                self.up[name] = False
                self.events.append((time.monotonic(), f"{name} down"))

    def record(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)

    def _probe(self) -> None:
        while not self._stop.wait(0.5):
            for name, (address, port) in self.nodes.items():
                if self.up[name]:
                    continue
                client = NodeClient(address, port, timeout=2)
                try:
                    ready = client.get("/readyz").status == 200
                except OSError:
                    ready = False
                finally:
                    client.close()
                if ready:
                    with self.lock:
                        self.up[name] = True
                        self.events.append((time.monotonic(), f"{name} up"))

    def close(self) -> None:
        self._stop.set()


class SpreadClient:
    """One resident's browser behind the balancer: cookies shared by every node.

    ``sticky``: every request to the same node while it is up (a sticky session);
    otherwise each request to the next node in turn.
    """

    def __init__(self, balancer: Balancer, *, client_ip: str, sticky: str | None = None):
        self.balancer = balancer
        self.sticky = sticky
        self.cookies: dict[str, str] = {}
        self.clients: dict[str, NodeClient] = {}
        self.client_ip = client_ip
        self.served: dict[str, str] = {}  # step -> the node that answered it last

    def _client(self, node: str) -> NodeClient:
        if node not in self.clients:
            address, port = self.balancer.nodes[node]
            client = NodeClient(address, port, client_ip=self.client_ip, timeout=60)
            client.cookies = self.cookies
            self.clients[node] = client
        return self.clients[node]

    def request(self, method, path, body=None, headers=None) -> Response:
        step = step_of(method, path, headers)
        for _attempt in range(len(self.balancer.nodes) + 1):
            node = self.balancer.pick(self.sticky)
            if node is None:
                raise ConnectionRefusedError("no web node is up")
            started = time.monotonic()
            try:
                response = self._client(node).request(method, path, body, headers)
            except ConnectionRefusedError:
                self.balancer.down(node)  # never reached it: the next node takes it
                continue
            except OSError as error:
                self.balancer.record(
                    Record(node, step, type(error).__name__, started, time.monotonic())
                )
                raise
            self.balancer.record(Record(node, step, response.status, started, time.monotonic()))
            self.served[step] = node
            return response
        raise ConnectionRefusedError("every web node refused")

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path, fields) -> Response:
        return Client.post_form(self, path, fields)  # type: ignore[arg-type]

    def post_multipart(self, path, fields, files) -> Response:
        return Client.post_multipart(self, path, fields, files)  # type: ignore[arg-type]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
