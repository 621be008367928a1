"""Project-wide security: login lockout, staff two-factor login, headers, safe templates."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

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


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


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


# -- two-factor authentication ---------------------------------------------------------


def test_without_required_two_factor_a_password_login_reaches_the_admin(client, staff):
    assert settings.LINLI_REQUIRE_2FA is False  # development and tests
    assert _login(client, staff.username, PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


@override_settings(LINLI_REQUIRE_2FA=True)
def test_in_production_a_password_alone_does_not_open_the_admin(client, staff):
    response = _login(client, staff.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/2fa/")
    # Still anonymous everywhere until the second factor: the admin sends back to login,
    # and the login page forwards to the second factor.
    index = client.get("/admin/")
    assert index.status_code == 302 and index["Location"].startswith(LOGIN)
    back = client.get(index["Location"])
    assert back.status_code == 302 and back["Location"].startswith("/admin/2fa/")


@override_settings(LINLI_REQUIRE_2FA=True)
def test_without_the_second_factor_no_admin_page_of_any_app_opens(client, staff):
    from django.contrib import admin
    from django.urls import reverse

    _login(client, staff.username, PASSWORD)
    urls = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    assert len(urls) >= 3
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(LOGIN), url


@override_settings(LINLI_REQUIRE_2FA=True)
def test_a_fresh_staff_user_enrols_an_authenticator_and_then_gets_in(client, staff):
    _login(client, staff.username, PASSWORD)
    verify = client.get("/admin/2fa/?next=/admin/")
    assert verify.status_code == 302
    assert verify["Location"].startswith("/admin/2fa/setup/")
    setup = client.get(verify["Location"])
    assert setup.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in setup.text
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed is False
    assert client.get("/admin/").status_code == 302  # an unconfirmed device is not enough

    wrong = client.post("/admin/2fa/setup/", {"token": "000000", "next": "/admin/"})
    if _code(device) != "000000":
        assert wrong.status_code == 200
        assert wrong.context["form"].errors.as_data()["token"][0].code == "invalid_token"

    # django-otp throttles after a wrong code (1 s, then doubling); a person types slower.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        done = client.post("/admin/2fa/setup/", {"token": _code(device), "next": "/admin/"})
    assert done.status_code == 302 and done["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/admin/").status_code == 200


@override_settings(LINLI_REQUIRE_2FA=True)
def test_an_enrolled_staff_user_must_type_the_current_code(client, staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    _login(client, staff.username, PASSWORD)
    page = client.get("/admin/2fa/?next=/admin/")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text
    # No second device can be enrolled by someone who only knows the password.
    assert client.get("/admin/2fa/setup/")["Location"].startswith("/admin/2fa/")
    assert client.post("/admin/2fa/", {"token": "12", "next": "/admin/"}).status_code == 200
    assert client.get("/admin/").status_code == 302
    response = client.post("/admin/2fa/", {"token": _code(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@override_settings(LINLI_REQUIRE_2FA=True)
def test_second_factor_page_does_not_redirect_to_another_host(client, staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    _login(client, staff.username, PASSWORD)
    response = client.post("/admin/2fa/", {"token": _code(device), "next": "https://evil.example"})
    assert response["Location"] == "/admin/"


@override_settings(LINLI_REQUIRE_2FA=True, LINLI_2FA_SELF_ENROLL=False)
def test_without_self_enrolment_a_user_without_device_is_told_to_ask_an_admin(client, staff):
    _login(client, staff.username, PASSWORD)
    response = client.get("/admin/2fa/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 403
    assert "请联系管理员为您设置" in response.text
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert client.get("/admin/").status_code == 302


@override_settings(LINLI_REQUIRE_2FA=True)
def test_a_user_stopped_at_the_second_factor_can_log_out(client, staff):
    _login(client, staff.username, PASSWORD)
    response = client.post("/admin/2fa/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/2fa/")["Location"].startswith(LOGIN)


def test_second_factor_pages_send_anonymous_visitors_to_the_login(client):
    for url in ("/admin/2fa/", "/admin/2fa/setup/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


def test_otp_enroll_command_gives_a_fresh_user_a_confirmed_device(staff, capsys):
    call_command("otp_enroll", staff.username)
    out = capsys.readouterr().out
    assert "otpauth://totp/" in out
    assert TOTPDevice.objects.get(user=staff).confirmed is True
    with pytest.raises(CommandError):
        call_command("otp_enroll", staff.username)
    call_command("otp_enroll", staff.username, "--replace", "--no-qr")
    assert TOTPDevice.objects.filter(user=staff).count() == 1
    with pytest.raises(CommandError):
        call_command("otp_enroll", "nobody-of-that-name")


@override_settings(LINLI_REQUIRE_2FA=True)
def test_device_from_the_otp_enroll_command_opens_the_admin(client, staff):
    call_command("otp_enroll", staff.username, "--no-qr")
    _login(client, staff.username, PASSWORD)
    device = TOTPDevice.objects.get(user=staff)
    client.post("/admin/2fa/", {"token": _code(device), "next": "/admin/"})
    assert client.get("/admin/").status_code == 200


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
