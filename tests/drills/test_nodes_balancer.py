"""
The two-node drill's balancer and forwarder (bench/drills/balancer.py, bench/tcp_forward.py)
against real HTTP servers on the loopback: a node that refuses connections is skipped
without losing the request, a request in flight on a node that dies is never sent again,
a node comes back once its /readyz answers; the forwarder carries bytes both ways.
"""

import socket
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.common import free_port
from bench.drills.balancer import Balancer, SpreadClient

ROOT = Path(__file__).resolve().parent.parent.parent


class Node:
    """A tiny HTTP server standing for a web node: counts what it receives."""

    def __init__(self, name: str):
        self.name = name
        self.received: list[str] = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                node.received.append(f"{self.command} {self.path}")
                if self.path == "/die":  # dies with the request received: gone, reset
                    node.server.socket.close()
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                body = node.name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def nodes():
    started = [Node("a"), Node("b")]
    yield started
    for node in started:
        node.close()


def test_round_robin_reaches_both_nodes(nodes):
    balancer = Balancer({n.name: ("127.0.0.1", n.port) for n in nodes})
    client = SpreadClient(balancer, client_ip="10.9.9.9")
    answers = [client.get(f"/page/{i}").text for i in range(4)]
    client.close()
    balancer.close()
    assert sorted(answers) == ["a", "a", "b", "b"]
    assert len(balancer.records) == 4
    assert all(r.outcome == 200 for r in balancer.records)


def test_refusing_node_is_skipped_and_the_post_reaches_the_other(nodes):
    gone = Node("gone")
    gone.close()  # its port now refuses connections
    balancer = Balancer({"gone": ("127.0.0.1", gone.port), "b": ("127.0.0.1", nodes[1].port)})
    client = SpreadClient(balancer, client_ip="10.9.9.9", sticky="gone")
    response = client.post_form("/s/x/register/", [("step", "submit")])
    client.close()
    balancer.close()
    assert response.status == 200
    assert response.text == "b"
    assert nodes[1].received == ["POST /s/x/register/"]
    assert balancer.up["gone"] is False
    assert [r.node for r in balancer.records] == ["b"]


def test_request_in_flight_on_a_dying_node_is_not_sent_again(nodes):
    balancer = Balancer({"dying": ("127.0.0.1", nodes[0].port), "b": ("127.0.0.1", nodes[1].port)})
    client = SpreadClient(balancer, client_ip="10.9.9.9", sticky="dying")
    assert client.get("/first").text == "a"  # a kept-alive connection, as a browser has
    with pytest.raises(OSError):
        # The node receives the confirm and dies before answering (its socket reset).
        client.post_form("/die", [("step", "submit")])
    client.close()
    balancer.close()
    assert nodes[0].received == ["GET /first", "POST /die"]
    assert nodes[1].received == []  # never sent again to the other node
    assert [(r.node, r.outcome) for r in balancer.records][-1][0] == "dying"
    assert not isinstance(balancer.records[-1].outcome, int)


def test_node_marked_down_comes_back_when_ready(nodes):
    balancer = Balancer({n.name: ("127.0.0.1", n.port) for n in nodes})
    balancer.down("a")
    deadline = time.monotonic() + 5
    while not balancer.up["a"] and time.monotonic() < deadline:
        time.sleep(0.1)
    balancer.close()
    assert balancer.up["a"] is True
    assert "GET /readyz" in nodes[0].received


def test_forwarder_carries_bytes_both_ways(nodes):
    port = free_port()
    forwarder = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "tcp_forward.py"),
            f"127.0.0.1:{port}",
            f"127.0.0.1:{nodes[0].port}",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert forwarder.stdout.readline().startswith(b"forwarding")
        balancer = Balancer({"via": ("127.0.0.1", port)})
        client = SpreadClient(balancer, client_ip="10.9.9.9")
        response = client.post_form("/through", [("x", "y" * 100_000)])
        client.close()
        balancer.close()
    finally:
        forwarder.terminate()
        forwarder.wait(10)
    assert response.status == 200
    assert response.text == "a"
    assert nodes[0].received == ["POST /through"]
