"""Project-wide security: login lockout, headers, safe templates (2FA: tests/workspace/)."""

import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings

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


# -- django-axes lockout ---------------------------------------------------------------


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3, TRUSTED_PROXIES=["127.0.0.1"])
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


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3, TRUSTED_PROXIES=["127.0.0.1"])
def test_lockout_counts_the_real_client_not_a_forged_forwarded_header(client, staff):
    for forged in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        response = _login(
            client, staff.username, "wrong", HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.9"
        )
    assert response.status_code == 429
    # A colleague at another address can still log in with the right password.
    ok = _login(client, staff.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.50")
    assert ok.status_code == 302


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5, TRUSTED_PROXIES=["127.0.0.1"])
def test_forged_forwarded_addresses_from_outside_the_proxy_do_not_dodge_the_lockout(client, staff):
    """Attack: gunicorn reached directly, each wrong password with a new X-Forwarded-For."""
    statuses = [
        _login(
            client,
            staff.username,
            f"wrong-{n}",
            REMOTE_ADDR="198.51.100.7",  # not a proxy of ours
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(12)
    ]
    # Only the configured number of tries reached the password check.
    assert statuses[:4] == [200] * 4
    assert statuses[4:] == [429] * 8
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"


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
