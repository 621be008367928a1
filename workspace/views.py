"""
Two-step sign-in pages for staff (django-otp: TOTP and recovery codes).

After the password (the admin login, guarded by django-axes) a user who must use a second
factor lands on ``verify``: a six-digit code from their authenticator app, or one of their
recovery codes. A user with no authenticator yet goes to ``enrol``: first the one-time
enrolment code a manager or administrator issued; only a session that has proven it is
shown the new app's secret (QR code), confirmed with one code from the app, after which
the recovery codes are shown once. These pages see the password-checked user through
``request.otp_pending_user`` (workspace.middleware.StaffTwoFactorMiddleware).
"""

import base64

from django.contrib import admin, auth, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from stations.qr import qr_svg
from workspace.constants import ENROLMENT_SESSION_KEY
from workspace.forms import EnrolmentCodeForm, TokenForm
from workspace.selectors import recovery_codes_left
from workspace.services import enrolment_code_redeem, twofactor_enrolment_confirm, twofactor_verify


def _pending_user(request):
    """The password-checked user of this session, or None."""
    user = getattr(request, "otp_pending_user", None) or request.user
    return user if user.is_authenticated and user.is_active else None


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def _verified(request, user, device) -> None:
    """Mark this session as verified by ``device``."""
    request.user = user
    otp_login(request, device)


def _to(request, url_name: str):
    """Redirect to another two-step page, keeping where the user was going."""
    return redirect(f"{reverse(url_name)}?{urlencode({'next': _next_url(request)})}")


def _context(request, **extra):
    return {**admin.site.each_context(request), "next": _next_url(request), **extra}


def _qr_svg_data_uri(data: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(data)).decode()


def _proven_device(request, user) -> TOTPDevice | None:
    """The unconfirmed device this session was given by proving an enrolment code."""
    state = request.session.get(ENROLMENT_SESSION_KEY)
    if not isinstance(state, dict) or state.get("user") != user.pk:
        return None
    device_pk = state.get("device")
    if not isinstance(device_pk, int):
        return None
    return TOTPDevice.objects.filter(pk=device_pk, user=user, confirmed=False).first()


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
def verify(request):
    """Ask for the code of the user's authenticator app, or a recovery code."""
    user = _pending_user(request)
    if user is None:
        return _to(request, "admin:login")
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user, confirmed=True):
        return _to(request, "workspace:twofactor_enrol")
    form = TokenForm(request.POST or None, recovery_codes=True)
    if request.method == "POST" and form.is_valid():
        device = twofactor_verify(user=user, token=form.cleaned_data["token"])
        if device is not None:
            _verified(request, user, device)
            if isinstance(device, StaticDevice):
                left = recovery_codes_left(user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code; %(count)d is left. Ask your "
                        "station manager to reset your two-step verification if your phone "
                        "is lost.",
                        "You signed in with a recovery code; %(count)d are left. Ask your "
                        "station manager to reset your two-step verification if your phone "
                        "is lost.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(_next_url(request))
        form.add_error("token", form.invalid_token_error())
    return render(request, "workspace/twofactor/verify.html", _context(request, form=form))


@sensitive_post_parameters("code", "token")
@csrf_protect
@never_cache
def enrol(request):
    """
    Enrol a first authenticator app: prove the enrolment code, then scan the QR code and
    confirm it with one code; the recovery codes are shown once.
    """
    user = _pending_user(request)
    if user is None:
        return _to(request, "admin:login")
    if user.is_verified() or user_has_device(user, confirmed=True):
        # Another device for an enrolled user is a reset, by a manager or administrator.
        return _to(request, "workspace:twofactor")
    device = _proven_device(request, user)
    if device is None:
        return _enrol_code(request, user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        recovery_codes = twofactor_enrolment_confirm(
            device=device, token=form.cleaned_data["token"]
        )
        if recovery_codes is not None:
            request.session.pop(ENROLMENT_SESSION_KEY, None)
            device.refresh_from_db()
            _verified(request, user, device)
            # Shown in this response only: a reload finds a verified user and moves on.
            shown = [f"{code[:4]}-{code[4:]}" for code in recovery_codes]
            context = _context(request, recovery_codes=shown)
            return render(request, "workspace/twofactor/recovery_codes.html", context)
        form.add_error("token", form.invalid_token_error())
    context = _context(
        request,
        form=form,
        qr_data_uri=_qr_svg_data_uri(device.config_url),
        secret=base64.b32encode(device.bin_key).decode().rstrip("="),
    )
    return render(request, "workspace/twofactor/enrol_device.html", context)


def _enrol_code(request, user):
    form = EnrolmentCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = enrolment_code_redeem(user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            request.session[ENROLMENT_SESSION_KEY] = {"user": user.pk, "device": device.pk}
            return _to(request, "workspace:twofactor_enrol")
    return render(request, "workspace/twofactor/enrol_code.html", _context(request, form=form))


@require_POST
@csrf_protect
def logout(request):
    """Log out a user who stopped at the second factor (the admin's logout needs it passed)."""
    auth.logout(request)
    return redirect("admin:login")
