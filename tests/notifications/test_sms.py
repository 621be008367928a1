"""SMS backends, the HTTP gateway one against a real HTTP server on loopback."""

import datetime
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from notifications import sms
from notifications.exceptions import PermanentDeliveryError, TemporaryDeliveryError
from notifications.identity import message_identity
from notifications.models import Message
from notifications.services import message_send
from tests.notifications.factories import MessageFactory


class Gateway(BaseHTTPRequestHandler):
    """A fake SMS gateway: answers what ``server.answer`` says and records requests."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append(
            {
                "path": self.path,
                "headers": dict(self.headers),
                "body": json.loads(self.rfile.read(length)),
            }
        )
        status, body = self.server.answer
        if status == "hang":
            self.server.release.wait(5)
            status, body = 200, {"id": "late"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.requests = []
    server.answer = (200, {"id": "msg-42"})
    server.release = threading.Event()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}/send"
    settings.SMS_GATEWAY_TOKEN = "gateway-token"
    settings.SMS_GATEWAY_TIMEOUT = 0.5
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_gateway_receives_json_with_the_token_and_returns_its_id(gateway):
    reference = sms.send_sms(to="+8613800138000", body="你好 hello", sender="Shipai")
    assert reference == "msg-42"
    request = gateway.requests[0]
    assert request["path"] == "/send"
    assert request["headers"]["Authorization"] == "Bearer gateway-token"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {"to": "+8613800138000", "text": "你好 hello", "sender": "Shipai"}


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_gateway_client_errors_are_permanent(gateway, status):
    gateway.answer = (status, {"error": "invalid number"})
    with pytest.raises(PermanentDeliveryError, match=str(status)):
        sms.send_sms(to="+861", body="x")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_gateway_server_errors_and_throttling_are_temporary(gateway, status):
    gateway.answer = (status, {"error": "busy"})
    with pytest.raises(TemporaryDeliveryError, match=str(status)):
        sms.send_sms(to="+8613800138000", body="x")


def test_gateway_timeout_is_temporary(gateway):
    gateway.answer = ("hang", None)
    with pytest.raises(TemporaryDeliveryError, match="unreachable"):
        sms.send_sms(to="+8613800138000", body="x")


def test_gateway_refusing_connections_is_temporary(gateway, settings):
    from tests.celery_support import closed_port

    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{closed_port()}/send"
    with pytest.raises(TemporaryDeliveryError):
        sms.send_sms(to="+8613800138000", body="x")


def test_gateway_without_url_is_a_permanent_misconfiguration(settings):
    settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(PermanentDeliveryError):
        sms.send_sms(to="+8613800138000", body="x")


def test_locmem_backend_keeps_messages_in_the_outbox(settings):
    settings.SMS_BACKEND = "notifications.sms.LocmemBackend"
    sms.outbox.clear()
    sms.send_sms(to="+8613800138000", body="hello", sender="Shipai")
    assert sms.outbox == [sms.SmsMessage(to="+8613800138000", body="hello", sender="Shipai")]
    sms.outbox.clear()


def test_console_backend_prints_the_message(settings, monkeypatch):
    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    stream = io.StringIO()
    monkeypatch.setattr(sms.ConsoleBackend, "stream", stream)
    sms.send_sms(to="+8613800138000", body="hello")
    assert "+8613800138000" in stream.getvalue()
    assert "hello" in stream.getvalue()


def test_file_backend_keeps_each_message_as_a_file(settings, tmp_path, monkeypatch):
    settings.SMS_BACKEND = "notifications.sms.FileBackend"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    monkeypatch.setattr(sms.ConsoleBackend, "stream", io.StringIO())
    reference = sms.send_sms(to="+8613800138000", body="你好")
    files = list((tmp_path / "sms").iterdir())
    assert [f.stem for f in files] == [reference]
    assert "你好" in files[0].read_text(encoding="utf-8")


@pytest.mark.django_db
def test_gateway_gets_the_messages_key_on_every_attempt(gateway):
    """A re-send (the first worker died after the gateway took the text) carries the same
    key in the JSON and in the Idempotency-Key header, so that the gateway drops it."""
    message = MessageFactory(channel="sms", to="+8613800138000", idempotency_key="case:9:sms")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert message_send(message_id=message.pk).result == "sent"
    # The worker is killed before it records the send: the outbox still says "sending".
    Message.objects.filter(pk=message.pk).update(status="sending", sending_started_at=start)
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
        assert message_send(message_id=message.pk).result == "sent"

    key = message_identity("case:9:sms")
    assert [r["body"]["key"] for r in gateway.requests] == [key, key]
    assert [r["headers"]["Idempotency-Key"] for r in gateway.requests] == [key, key]
    assert "case:9" not in str(gateway.requests)  # the key names no record
    assert Message.objects.get(pk=message.pk).reference == "msg-42"
