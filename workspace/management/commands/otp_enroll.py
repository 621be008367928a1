"""
``manage.py otp_enroll <username>``: let a staff user set up two-step verification.

By default it issues a one-time enrolment code (what a manager does in the admin): the
person signs in with their password, types the code and scans the QR code shown then.
With ``--device`` the operator enrols the app for them at once and gets its otpauth://
URI (and QR code) and the recovery codes, to hand over in person — for the very first
administrator, before anyone can issue codes.
"""

import io

import qrcode
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from workspace.selectors import user_has_authenticator
from workspace.services import enrolment_code_issue, twofactor_device_create, twofactor_reset

SERVER = "manage.py otp_enroll"


class Command(BaseCommand):
    help = (
        "Issue a one-time enrolment code with which a staff user sets up their authenticator "
        "app (or, with --device, enrol it at once and print its URI and recovery codes). "
        "Use --replace when a phone was lost."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Remove the user's authenticator apps and recovery codes first (lost phone).",
        )
        parser.add_argument(
            "--device",
            action="store_true",
            help="Enrol an authenticator app at once and print its otpauth:// URI.",
        )
        parser.add_argument("--no-qr", action="store_true", help="With --device: URI only.")

    def handle(self, *args, username, replace, device, no_qr, **options):
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if user_has_authenticator(user) and not replace:
            raise CommandError(
                f"{username} already has an authenticator app; use --replace to change it."
            )
        if device:
            self._device(user, replace=replace, no_qr=no_qr)
        else:
            self._code(user, replace=replace)
        self.stdout.write("Show this only to that person; it is their second factor.")

    def _code(self, user, *, replace):
        try:
            if replace:
                raw, code = twofactor_reset(user=user, by=None, detail=SERVER)
            else:
                raw, code = enrolment_code_issue(user=user, by=None, detail=SERVER)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        until = timezone.localtime(code.expires_at).strftime("%Y-%m-%d %H:%M %Z")
        self.stdout.write(f"Enrolment code for {user.get_username()}: {raw}")
        self.stdout.write(
            f"Valid once, until {until} ({settings.LINLI_2FA_ENROLMENT_CODE_HOURS} h). "
            "They sign in with their password, type it, and scan the QR code shown then."
        )

    def _device(self, user, *, replace, no_qr):
        device, recovery_codes = twofactor_device_create(user=user, replace=replace)
        self.stdout.write(f"Authenticator app enrolled for {user.get_username()}. Scan or enter:")
        self.stdout.write(device.config_url)
        if not no_qr:
            code = qrcode.QRCode(border=1)
            code.add_data(device.config_url)
            out = io.StringIO()
            code.print_ascii(out=out, invert=True)
            self.stdout.write(out.getvalue())
        self.stdout.write("Recovery codes (each signs in once without the app):")
        self.stdout.write("  " + "  ".join(f"{c[:4]}-{c[4:]}" for c in recovery_codes))
