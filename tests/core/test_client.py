"""The client's address: X-Forwarded-For believed only from our own proxies (core.client)."""

import runpy

import pytest
from django.conf import settings
from django.test import RequestFactory

from core.client import ClientIPMiddleware, client_ip

GUNICORN_CONFIG = settings.BASE_DIR / "config" / "gunicorn.py"


def _request(remote="10.0.0.1", forwarded=None, **meta):
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", REMOTE_ADDR=remote, **meta)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        ([], "10.0.0.1", "203.0.113.9", "10.0.0.1"),  # no proxy trusted: the socket's address
        (["10.0.0.1"], "10.0.0.1", "203.0.113.9", "203.0.113.9"),  # nginx appended the client
        # The left part is the client's lie.
        (["10.0.0.1"], "10.0.0.1", "198.51.100.66, 203.0.113.9", "203.0.113.9"),
        # Two proxies of ours (a network): the right-most hop that is not one of them.
        (["10.0.0.0/24"], "10.0.0.1", "198.51.100.66, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        # Reached without the proxy: the header is anyone's and counts for nothing.
        (["127.0.0.1"], "198.51.100.7", "203.0.113.9", "198.51.100.7"),
        (["10.0.0.1"], "10.0.0.1", "not-an-address", "10.0.0.1"),
        (["10.0.0.1"], "10.0.0.1", "", "10.0.0.1"),
        (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
        # nginx on gunicorn's Unix socket: the peer has no address.
        (["unix"], "", "203.0.113.9", "203.0.113.9"),
        ([], "", "203.0.113.9", ""),
        (["nonsense", "10.0.0.1"], "10.0.0.1", "203.0.113.9", "203.0.113.9"),
    ],
)
def test_client_ip_trusts_only_our_own_proxies(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    assert client_ip(_request(remote, forwarded)) == expected


def test_behind_the_proxy_every_reader_sees_the_client_address(settings):
    seen = {}

    def view(request):
        seen.update(remote=request.META["REMOTE_ADDR"], again=client_ip(request))
        return None

    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    request = _request("127.0.0.1", "198.51.100.66, 203.0.113.9")
    ClientIPMiddleware(view)(request)
    assert seen == {"remote": "203.0.113.9", "again": "203.0.113.9"}
    assert request.META["PROXY_REMOTE_ADDR"] == "127.0.0.1"


def test_forwarded_headers_from_outside_the_proxy_are_dropped(settings):
    """Attack: X-Forwarded-For and -Proto sent straight to gunicorn believe nothing."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    seen = {}

    def view(request):
        seen.update(remote=request.META["REMOTE_ADDR"], secure=request.is_secure())
        seen["forwarded"] = "HTTP_X_FORWARDED_FOR" in request.META

    request = _request("198.51.100.7", "203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    ClientIPMiddleware(view)(request)
    assert seen == {"remote": "198.51.100.7", "secure": False, "forwarded": False}


def test_without_trusted_proxies_remote_addr_is_left_alone(settings):
    settings.TRUSTED_PROXIES = []
    request = _request("10.0.0.1", "1.2.3.4")
    ClientIPMiddleware(lambda r: None)(request)
    assert request.META["REMOTE_ADDR"] == "10.0.0.1"


def test_django_axes_asks_the_same_function():
    assert settings.AXES_CLIENT_IP_CALLABLE == "core.client.client_ip"


def test_gunicorn_believes_the_scheme_only_from_the_same_proxies(monkeypatch):
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    config = runpy.run_path(str(GUNICORN_CONFIG))
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert config["bind"].startswith("127.0.0.1:")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/24,unix")
    assert runpy.run_path(str(GUNICORN_CONFIG))["forwarded_allow_ips"] == "10.0.0.0/24"
    monkeypatch.setenv("TRUSTED_PROXIES", "")
    assert runpy.run_path(str(GUNICORN_CONFIG))["forwarded_allow_ips"] == ""
