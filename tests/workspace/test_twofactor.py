"""
Staff two-step sign-in: a password alone reaches no admin page in production; the first
authenticator app needs a one-time enrolment code; recovery codes work once; a manager
resets a lost device of their own station's staff only.
"""

import base64
import contextlib
import importlib
import io
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib import admin
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy.constants import AuditAction
from privacy.models import AuditEntry
from stations.constants import MembershipRole
from stations.services import station_membership_set
from tests.stations.factories import StaffUserFactory, StationFactory
from tests.test_production import BASE_DIR, PRODUCTION_ENV
from workspace.checks import two_factor_required_check
from workspace.codes import enrolment_code_hash
from workspace.models import EnrolmentCode
from workspace.services import enrolment_code_issue, twofactor_device_create, twofactor_reset

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-4711"
LOGIN = "/admin/login/"
VERIFY = "/admin/2fa/"
ENROL = "/admin/2fa/enrol/"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
# What an authenticator secret looks like in a page: the provisioning URI, the QR code,
# the "enter this key by hand" text.
SECRET_MARKERS = ("otpauth://", "data:image/svg+xml", "secret=")
CODE_RE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")

production = override_settings(LINLI_REQUIRE_2FA=True)


# -- people and helpers ----------------------------------------------------------------


def _staff(username, station=None, role=MembershipRole.OFFICER, superuser=False):
    user = StaffUserFactory(username=username, station=station, station__role=role)
    user.set_password(PASSWORD)
    user.is_superuser = superuser
    user.save()
    return user


@pytest.fixture
def shipai(db):
    return StationFactory(code="shipai")


@pytest.fixture
def linhe(db):
    return StationFactory(code="linhe")


@pytest.fixture
def officer(shipai):
    return _staff("officer-anna", shipai)


@pytest.fixture
def manager(shipai):
    return _staff("manager-li", shipai, MembershipRole.MANAGER)


@pytest.fixture
def linhe_officer(linhe):
    return _staff("officer-linhe", linhe)


@pytest.fixture
def root(db):
    return _staff("root", superuser=True)


def _totp(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _later(seconds: int):
    """Move on in time: django-otp refuses a code reused or typed right after a wrong one."""
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False)


def _login(client, user, **headers):
    """Log in through the real admin login form, CSRF token and all."""
    page = client.get(LOGIN, **headers)
    assert page.status_code == 200
    return client.post(
        LOGIN,
        {
            "username": user.username,
            "password": PASSWORD,
            "next": "/admin/",
            "csrfmiddlewaretoken": page.context["csrf_token"],
        },
        **headers,
    )


def _csrf_client():
    return Client(enforce_csrf_checks=True)


def _post(client, url, data, **headers):
    """POST a form the way a browser does: with the CSRF token of the session's cookie."""
    cookie = client.cookies.get(settings.CSRF_COOKIE_NAME)
    token = cookie.value if cookie is not None else ""
    return client.post(url, {**data, "csrfmiddlewaretoken": token}, **headers)


def _signed_in(user) -> Client:
    """A browser session of ``user`` past the password and an authenticator code."""
    device, _codes = twofactor_device_create(user=user, replace=True)
    client = _csrf_client()
    _login(client, user)
    response = _post(client, VERIFY, {"token": _totp(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    return client


def _assert_no_secret(response):
    for marker in SECRET_MARKERS:
        assert marker not in response.text, marker
    for device in TOTPDevice.objects.all():
        assert base64.b32encode(device.bin_key).decode().rstrip("=") not in response.text


def _admin_urls() -> list[str]:
    """Every admin URL that reverses without, or with one numeric, argument."""
    urls = {reverse("admin:index"), reverse("admin:password_change"), reverse("admin:jsi18n")}
    for model, model_admin in admin.site._registry.items():
        urls.add(reverse("admin:app_list", args=[model._meta.app_label]))
        for pattern in model_admin.get_urls():
            if not pattern.name:
                continue
            for args in ([], ["1"]):
                with contextlib.suppress(NoReverseMatch):
                    urls.add(reverse(f"admin:{pattern.name}", args=args))
                    break
    return sorted(urls)


# -- attack 4: a password alone ----------------------------------------------------------


@production
@pytest.mark.parametrize("who", ["officer", "manager", "root"])
def test_password_alone_reaches_no_admin_page_in_production(request, who):
    user = request.getfixturevalue(who)
    client = _csrf_client()
    response = _login(client, user)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)

    # The second-factor pages lead a user without a device to the enrolment code, no
    # further: no QR code, no key, no device created.
    for url in (response["Location"], VERIFY, ENROL, LOGIN):
        page = client.get(url, follow=True)
        assert page.status_code == 200, url
        assert page.wsgi_request.path == ENROL, url
        assert 'name="code"' in page.text
        _assert_no_secret(page)
    # Guessing is no way in either: a made-up code, a made-up app code, the old setup page.
    for data in ({"code": "7K3M-Q9XD-2HTB"}, {"code": ""}, {"token": "123456"}):
        page = _post(client, ENROL, {**data, "next": "/admin/"})
        assert page.status_code == 200
        _assert_no_secret(page)
    assert _post(client, VERIFY, {"token": "123456"}).status_code == 302
    old_setup = client.get("/admin/2fa/setup/")  # the self-enrolment page of old
    assert old_setup.status_code == 302 and old_setup["Location"].startswith(LOGIN)

    urls = _admin_urls()
    assert len(urls) > 40
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith(LOGIN), url
        _assert_no_secret(response)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert "otp_device_id" not in client.session


@production
def test_login_page_sends_a_password_checked_user_back_to_the_second_factor(client, officer):
    twofactor_device_create(user=officer)
    _login(client, officer)
    index = client.get("/admin/")
    assert index.status_code == 302 and index["Location"].startswith(LOGIN)
    back = client.get(index["Location"])
    assert back.status_code == 302 and back["Location"].startswith(VERIFY)


def test_without_required_two_factor_a_password_login_reaches_the_admin(client, manager):
    assert settings.LINLI_REQUIRE_2FA is False  # tests; development: see below
    assert _login(client, manager).status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.skipif("LINLI_REQUIRE_2FA" in os.environ, reason="set by the environment")
def test_development_settings_do_not_require_two_factor_so_make_run_works():
    local = importlib.import_module("config.settings.local")
    assert local.LINLI_REQUIRE_2FA is False
    assert not hasattr(local, "LINLI_2FA_SELF_ENROLL")  # no self-enrolment anywhere


def test_check_deploy_fails_when_two_factor_is_not_required():
    with override_settings(LINLI_REQUIRE_2FA=False):
        assert [e.id for e in two_factor_required_check(None)] == ["workspace.E001"]
        found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
        assert "workspace.E001" in {e.id for e in found}
    with override_settings(LINLI_REQUIRE_2FA=True):
        assert two_factor_required_check(None) == []


def test_django_otp_device_admins_are_gone_so_no_admin_page_shows_a_secret():
    assert TOTPDevice not in admin.site._registry
    assert StaticDevice not in admin.site._registry


# -- enrolment with a code ---------------------------------------------------------------


def _enrol_code_page(client, code, **headers):
    return _post(client, ENROL, {"code": code, "next": "/admin/"}, **headers)


@production
def test_a_wrong_enrolment_code_is_refused_with_a_translated_message_and_no_secret(officer):
    enrolment_code_issue(user=officer, by=None)
    client = _csrf_client()
    _login(client, officer, **ZH)
    page = _enrol_code_page(client, "7k3m q9xd 2htb", **ZH)
    assert page.status_code == 200
    assert page.context["form"].errors.as_data()["code"][0].code == "invalid"
    assert "绑定码无效" in page.text
    assert 'value="7k3m q9xd 2htb"' in page.text  # what was typed stays
    _assert_no_secret(page)
    assert not TOTPDevice.objects.filter(user=officer).exists()


@production
def test_an_expired_enrolment_code_is_refused(officer):
    raw, _code = enrolment_code_issue(user=officer, by=None)
    client = _csrf_client()
    with _later(settings.LINLI_2FA_ENROLMENT_CODE_HOURS * 3600 + 60):
        _login(client, officer, **ZH)
        page = _enrol_code_page(client, raw, **ZH)
    assert page.status_code == 200
    assert page.context["form"].errors.as_data()["code"][0].code == "expired"
    assert "绑定码已过期" in page.text
    _assert_no_secret(page)


@production
def test_a_used_enrolment_code_is_refused_to_a_second_session(officer):
    raw, _code = enrolment_code_issue(user=officer, by=None)
    first = _csrf_client()
    _login(first, officer)
    assert _enrol_code_page(first, raw).status_code == 302
    second = _csrf_client()
    _login(second, officer, **ZH)
    page = _enrol_code_page(second, raw, **ZH)
    assert page.status_code == 200
    assert page.context["form"].errors.as_data()["code"][0].code == "used"
    assert "绑定码已被使用" in page.text
    _assert_no_secret(page)
    assert 'name="code"' in second.get(ENROL).text  # still no secret for this session


@production
def test_a_code_issued_for_a_colleague_opens_nothing(officer, manager):
    raw, _code = enrolment_code_issue(user=manager, by=None)
    client = _csrf_client()
    _login(client, officer)
    page = _enrol_code_page(client, raw)
    assert page.context["form"].errors.as_data()["code"][0].code == "invalid"
    _assert_no_secret(page)


@production
def test_a_few_wrong_codes_void_the_open_one(officer):
    raw, _code = enrolment_code_issue(user=officer, by=None)
    client = _csrf_client()
    _login(client, officer)
    for _ in range(5):
        _enrol_code_page(client, "0000-0000-0000")
    page = _enrol_code_page(client, raw)
    assert page.context["form"].errors.as_data()["code"][0].code == "invalid"
    assert not EnrolmentCode.objects.filter(user=officer).exists()


def _enrol(client, user, code) -> list[str]:
    """Prove ``code``, read the secret, confirm it with the app; return the recovery codes."""
    proven = _enrol_code_page(client, code)
    assert proven.status_code == 302 and proven["Location"].startswith(ENROL)
    page = client.get(proven["Location"])
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    assert 'src="data:image/svg+xml;base64,' in page.text
    assert base64.b32encode(device.bin_key).decode().rstrip("=") in page.text
    done = _post(client, ENROL, {"token": _totp(device), "next": "/admin/"})
    assert done.status_code == 200
    return done.context["recovery_codes"]


@production
def test_the_right_code_shows_the_secret_and_a_confirmed_app_opens_the_admin(officer):
    raw, code = enrolment_code_issue(user=officer, by=None)
    client = _csrf_client()
    _login(client, officer)
    proven = _enrol_code_page(client, raw.lower().replace("-", " "))  # typed loosely
    assert proven.status_code == 302
    code.refresh_from_db()
    assert code.used_at is not None
    page = client.get(ENROL)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=officer)
    assert device.confirmed is False
    assert base64.b32encode(device.bin_key).decode().rstrip("=") in page.text
    assert client.get("/admin/").status_code == 302  # an unconfirmed app is not enough

    wrong = _post(client, ENROL, {"token": "000000", "next": "/admin/"})
    if _totp(device) != "000000":
        assert wrong.status_code == 200
        assert wrong.context["form"].errors.as_data()["token"][0].code == "invalid_token"
    with _later(5):
        done = _post(client, ENROL, {"token": _totp(device), "next": "/admin/"})
        assert done.status_code == 200
        assert len(done.context["recovery_codes"]) == 10
        for shown in done.context["recovery_codes"]:
            assert shown in done.text
        device.refresh_from_db()
        assert device.confirmed is True
        assert client.get("/admin/").status_code == 200
        # Shown once: the page again is no longer the enrolment, the codes are not in it.
        again = client.get(ENROL)
        assert again.status_code == 302
        assert done.context["recovery_codes"][0] not in client.get("/admin/").text


@production
def test_a_recovery_code_signs_in_once(officer):
    raw, _code = enrolment_code_issue(user=officer, by=None)
    client = _csrf_client()
    _login(client, officer)
    recovery = _enrol(client, officer, raw)[0]

    first = _csrf_client()
    _login(first, officer)
    response = _post(first, VERIFY, {"token": recovery.upper(), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    index = first.get("/admin/")
    assert index.status_code == 200
    assert StaticToken.objects.filter(device__user=officer).count() == 9

    second = _csrf_client()
    _login(second, officer)
    with _later(5):
        refused = _post(second, VERIFY, {"token": recovery, "next": "/admin/"})
        assert refused.status_code == 200
        assert refused.context["form"].errors.as_data()["token"][0].code == "invalid_token"
        assert second.get("/admin/").status_code == 302


@production
def test_an_enrolled_staff_user_must_type_the_current_code(officer):
    device, _codes = twofactor_device_create(user=officer)
    client = _csrf_client()
    _login(client, officer)
    page = client.get(f"{VERIFY}?next=/admin/")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text
    # No second device for someone who knows only the password, code or no code.
    assert client.get(ENROL)["Location"].startswith(VERIFY)
    assert _post(client, VERIFY, {"token": "12", "next": "/admin/"}).status_code == 200
    assert client.get("/admin/").status_code == 302
    response = _post(client, VERIFY, {"token": _totp(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@production
def test_second_factor_page_does_not_redirect_to_another_host(officer):
    device, _codes = twofactor_device_create(user=officer)
    client = _csrf_client()
    _login(client, officer)
    response = _post(client, VERIFY, {"token": _totp(device), "next": "https://evil.example"})
    assert response["Location"] == "/admin/"


@production
def test_a_user_stopped_at_the_second_factor_can_log_out(officer):
    client = _csrf_client()
    _login(client, officer)
    response = _post(client, "/admin/2fa/logout/", {})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    assert client.get(VERIFY)["Location"].startswith(LOGIN)


def test_second_factor_pages_send_anonymous_visitors_to_the_login(client):
    for url in (VERIFY, ENROL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


# -- managers and administrators -------------------------------------------------------


CHANGELIST = "/admin/workspace/staffmember/"


def _action(client, action, users, **extra):
    data = {"action": action, "_selected_action": [u.pk for u in users], **extra}
    return _post(client, CHANGELIST, data, **ZH)


@production
def test_manager_resets_a_lost_device_of_their_own_station(manager, officer, shipai):
    lost = _signed_in(officer)
    client = _signed_in(manager)
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert officer.username in listing.text
    own = client.get(reverse("admin:workspace_staffmember_change", args=[officer.pk]))
    assert own.status_code == 200 and "shipai" in own.text

    confirm = _action(client, "reset_signin", [officer])
    assert confirm.status_code == 200
    assert "重置这些员工的两步验证" in confirm.text
    assert TOTPDevice.objects.filter(user=officer).exists()  # nothing yet

    done = _action(client, "reset_signin", [officer], confirm="yes")
    assert done.status_code == 200
    assert "no-store" in done["Cache-Control"]
    (raw,) = CODE_RE.findall(done.text)
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not StaticDevice.objects.filter(user=officer).exists()
    stored = EnrolmentCode.objects.get(user=officer)
    assert stored.code_hash == enrolment_code_hash(raw) and raw not in stored.code_hash
    assert stored.issued_by == manager
    entry = AuditEntry.objects.get(action=AuditAction.SIGNIN_RESET, user=manager)
    assert (entry.user, entry.station, entry.object_id) == (manager, shipai, str(officer.pk))
    assert "已为 1 名员工重置两步验证" in done.text

    # The lost phone's session is over; the new code enrols a new phone.
    assert lost.get("/admin/").status_code == 302
    fresh = _csrf_client()
    _login(fresh, officer)
    assert len(_enrol(fresh, officer, raw)) == 10
    assert fresh.get("/admin/").status_code == 200


@production
def test_manager_cannot_reset_staff_of_another_station_or_a_superuser(manager, linhe_officer, root):
    for user in (linhe_officer, root):
        twofactor_device_create(user=user)
    client = _signed_in(manager)
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert linhe_officer.username not in listing.text and root.username not in listing.text
    for user in (linhe_officer, root):
        _action(client, "reset_signin", [user], confirm="yes")
        _action(client, "issue_enrolment_codes", [user])
        change = client.get(reverse("admin:workspace_staffmember_change", args=[user.pk]))
        assert change.status_code == 404
        with pytest.raises(PermissionDenied):
            twofactor_reset(user=user, by=manager)
        with pytest.raises(PermissionDenied):
            enrolment_code_issue(user=user, by=manager)
        assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert not EnrolmentCode.objects.exists()
    assert not AuditEntry.objects.filter(user=manager).exists()


def test_officers_do_not_see_the_staff_sign_in_list(client, officer):
    client.force_login(officer)
    assert client.get(CHANGELIST).status_code == 403


def test_nobody_resets_their_own_device(manager, root):
    for user in (manager, root):
        with pytest.raises(PermissionDenied):
            twofactor_reset(user=user, by=user)


def test_an_administrator_resets_any_station_and_audits_for_each(root, linhe_officer, linhe):
    shipai = StationFactory(code="shipai")
    station_membership_set(user=linhe_officer, station=shipai, role=MembershipRole.OFFICER)
    twofactor_device_create(user=linhe_officer)
    AuditEntry.objects.all().delete()
    twofactor_reset(user=linhe_officer, by=root)
    stations = set(AuditEntry.objects.values_list("station__code", flat=True))
    assert stations == {"shipai", "linhe"}


@production
def test_manager_issues_a_first_enrolment_code_shown_once(manager, officer):
    client = _signed_in(manager)
    page = _action(client, "issue_enrolment_codes", [officer])
    assert page.status_code == 200
    (raw,) = CODE_RE.findall(page.text)
    assert "no-store" in page["Cache-Control"]
    assert raw not in str(list(EnrolmentCode.objects.values()))
    entry = AuditEntry.objects.get(action=AuditAction.SIGNIN_CODE)
    assert entry.user == manager
    # An officer who already has an app gets no code: that is a reset.
    twofactor_device_create(user=officer, replace=True)
    again = _action(client, "issue_enrolment_codes", [officer])
    assert again.status_code == 302
    assert not CODE_RE.findall(client.get(again["Location"]).text)


# -- the operator's command and the demo data ------------------------------------------


def test_otp_enroll_prints_an_enrolment_code_not_a_secret(officer):
    out = io.StringIO()
    call_command("otp_enroll", officer.username, stdout=out)
    text = out.getvalue()
    (raw,) = CODE_RE.findall(text)
    assert "otpauth://" not in text
    assert EnrolmentCode.objects.get(user=officer).code_hash == enrolment_code_hash(raw)
    assert not TOTPDevice.objects.filter(user=officer).exists()
    with pytest.raises(CommandError):
        call_command("otp_enroll", "nobody-of-that-name")


def test_otp_enroll_device_gives_a_confirmed_app_and_recovery_codes(officer):
    out = io.StringIO()
    call_command("otp_enroll", officer.username, "--device", stdout=out)
    assert "otpauth://totp/" in out.getvalue()
    assert TOTPDevice.objects.get(user=officer).confirmed is True
    assert StaticToken.objects.filter(device__user=officer).count() == 10
    with pytest.raises(CommandError):
        call_command("otp_enroll", officer.username, stdout=io.StringIO())
    call_command("otp_enroll", officer.username, "--device", "--replace", "--no-qr", stdout=out)
    assert TOTPDevice.objects.filter(user=officer).count() == 1
    call_command("otp_enroll", officer.username, "--replace", stdout=out)
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert EnrolmentCode.objects.open().filter(user=officer).count() == 1


@production
def test_device_from_the_otp_enroll_command_opens_the_admin(officer):
    call_command("otp_enroll", officer.username, "--device", "--no-qr", stdout=io.StringIO())
    client = _csrf_client()
    _login(client, officer)
    device = TOTPDevice.objects.get(user=officer)
    _post(client, VERIFY, {"token": _totp(device), "next": "/admin/"})
    assert client.get("/admin/").status_code == 200


@production
def test_seeding_with_two_factor_required_prints_enrolment_codes_not_secrets():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "otpauth://" not in text
    assert len(CODE_RE.findall(text)) == 4  # officer, manager, linhe-officer, admin
    assert EnrolmentCode.objects.open().count() == 4
    assert not TOTPDevice.objects.exists()


def test_the_environment_cannot_switch_production_to_self_enrolment_or_password_only():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(PRODUCTION_ENV, LINLI_2FA_SELF_ENROLL="true", LINLI_REQUIRE_2FA="false")
    script = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.LINLI_REQUIRE_2FA, hasattr(s, 'LINLI_2FA_SELF_ENROLL')]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[true, false]"
