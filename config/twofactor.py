"""
Two-factor authentication pages for staff (django-otp, TOTP).

After the password (the admin login, guarded by django-axes) a user who must use a second
factor lands on ``verify``: a six-digit code from their authenticator app. A user with no
device yet may enrol one on ``setup`` (scan the QR code, confirm with a code) when
``LINLI_2FA_SELF_ENROLL`` allows it; otherwise an administrator enrols them out of band
with ``manage.py otp_enroll <username>``. Both pages see the password-checked user through
``request.otp_pending_user`` (config.middleware.StaffTwoFactorMiddleware).
"""

import base64
import io

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import admin, auth
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Authenticator app"


class TokenForm(forms.Form):
    """A six-digit code from the authenticator app."""

    error_messages = {"invalid_token": _("This code is not valid. Enter the current code.")}

    token = forms.CharField(
        label=_("Six-digit code"),
        min_length=6,
        max_length=8,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("Open your authenticator app and type the code it shows for Linli."),
    )

    def invalid_token_error(self) -> forms.ValidationError:
        return forms.ValidationError(self.error_messages["invalid_token"], code="invalid_token")

    def clean_token(self):
        return self.cleaned_data["token"].replace(" ", "")


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


def _finish(request, user, device):
    """Mark this session as verified by ``device`` and continue where the user was going."""
    request.user = user
    otp_login(request, device)
    return redirect(_next_url(request))


def _to(request, url_name: str):
    """Redirect to another admin page, keeping where the user was going."""
    return redirect(f"{reverse(url_name)}?{urlencode({'next': _next_url(request)})}")


def _context(request, **extra):
    return {**admin.site.each_context(request), "next": _next_url(request), **extra}


def _qr_svg_data_uri(data: str) -> str:
    out = io.BytesIO()
    qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
def verify(request):
    """Ask for the code of the user's authenticator app (the second factor)."""
    user = _pending_user(request)
    if user is None:
        return _to(request, "admin:login")
    if user.is_verified():
        return redirect(_next_url(request))
    if not list(devices_for_user(user, confirmed=True)):
        if settings.LINLI_2FA_SELF_ENROLL:
            return _to(request, "admin:twofactor_setup")
        return render(request, "twofactor/no_device.html", _context(request), status=403)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            return _finish(request, user, device)
        form.add_error("token", form.invalid_token_error())
    return render(request, "twofactor/verify.html", _context(request, form=form))


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
def setup(request):
    """Enrol a first authenticator app: show its QR code, confirm it with one code."""
    user = _pending_user(request)
    if user is None:
        return _to(request, "admin:login")
    if list(devices_for_user(user, confirmed=True)) or not settings.LINLI_2FA_SELF_ENROLL:
        # Replacing a device is an administrator's job (otp_enroll --replace).
        return _to(request, "admin:twofactor")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            return _finish(request, user, device)
        form.add_error("token", form.invalid_token_error())
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    context = _context(
        request, form=form, qr_data_uri=_qr_svg_data_uri(device.config_url), secret=secret
    )
    return render(request, "twofactor/setup.html", context)


@require_POST
@csrf_protect
def logout(request):
    """Log out a user who stopped at the second factor (the admin's logout needs it passed)."""
    auth.logout(request)
    return redirect("admin:login")
