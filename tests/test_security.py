"""Project-wide security: login lockout, headers, safe templates (2FA: tests/workspace/)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings

from config.security import client_ip
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-4711"
LOGIN = "/admin/login/"


@pytest.fixture
def staff(db):
    user = StaffUserFactory(username="officer-anna")
    user.set_password(PASSWORD)
    user.is_superuser = True
    user.save()
    return user


def _login(client, username, password, **headers):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **headers
    )


# -- client IP behind the proxy --------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy trusted: the socket's address
        (1, "203.0.113.9", "203.0.113.9"),  # nginx appended the client
        (1, "198.51.100.66, 203.0.113.9", "203.0.113.9"),  # the left part is the client's lie
        (2, "198.51.100.66, 203.0.113.9, 10.0.0.2", "203.0.113.9"),  # two proxies
        (1, "not-an-address", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_client_ip_trusts_only_our_own_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_behind_the_proxy_every_app_sees_the_client_address(settings):
    from config.middleware import ClientIPMiddleware

    seen = {}

    def view(request):
        seen.update(remote=request.META["REMOTE_ADDR"], again=client_ip(request))
        return None

    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.9"
    )
    ClientIPMiddleware(view)(request)
    assert seen == {"remote": "203.0.113.9", "again": "203.0.113.9"}
    assert request.META["PROXY_REMOTE_ADDR"] == "127.0.0.1"


def test_without_trusted_proxies_remote_addr_is_left_alone(settings):
    from config.middleware import ClientIPMiddleware

    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    ClientIPMiddleware(lambda r: None)(request)
    assert request.META["REMOTE_ADDR"] == "10.0.0.1"


# -- django-axes lockout ---------------------------------------------------------------


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3, TRUSTED_PROXY_COUNT=1)
def test_repeated_wrong_passwords_lock_the_login_with_a_translated_page(client, staff):
    proxy = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_ACCEPT_LANGUAGE": "zh-CN"}
    for _ in range(2):
        assert _login(client, staff.username, "wrong", **proxy).status_code == 200
    locked = _login(client, staff.username, "wrong", **proxy)
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.text
    # Even the right password is refused now, from that address.
    again = _login(client, staff.username, PASSWORD, **proxy)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3, TRUSTED_PROXY_COUNT=1)
def test_lockout_counts_the_real_client_not_a_forged_forwarded_header(client, staff):
    for forged in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        response = _login(
            client, staff.username, "wrong", HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.9"
        )
    assert response.status_code == 429
    # A colleague at another address can still log in with the right password.
    ok = _login(client, staff.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.50")
    assert ok.status_code == 302


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_lockout_page_is_english_for_english_browsers(client, staff):
    for _ in range(3):
        response = _login(client, staff.username, "wrong", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    assert "15 minutes" in response.text


# -- headers and templates -------------------------------------------------------------


@override_settings(
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
)
@pytest.mark.parametrize("url", ["/", "/admin/login/", "/no-such-page/"])
def test_pages_carry_the_security_headers(client, url):
    response = client.get(url, secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for cookie in response.cookies.values():
        assert cookie["secure"]


def _project_templates():
    base = Path(settings.BASE_DIR)
    roots = [base / "templates"] + [base / app / "templates" for app in settings.LOCAL_APPS]
    return [p for root in roots if root.exists() for p in root.rglob("*.html")]


def test_no_template_has_inline_script_or_style_without_the_csp_nonce():
    inline = re.compile(r"<(script|style)\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    offenders = [
        f"{path}: {tag.group(0)}"
        for path in _project_templates()
        for tag in inline.finditer(path.read_text())
        if "csp_nonce" not in tag.group(0)
    ]
    assert _project_templates()
    assert offenders == []


def test_no_template_uses_inline_event_handlers_or_style_attributes():
    # A strict CSP blocks both (nonces do not apply to attributes).
    pattern = re.compile(r"""\s(on[a-z]+|style)\s*=\s*["']""", re.IGNORECASE)
    offenders = [
        f"{path}: {match.group(0).strip()}"
        for path in _project_templates()
        for match in pattern.finditer(path.read_text())
    ]
    assert offenders == []
