"""``manage.py otp_enroll <username>``: give a staff user an authenticator app (TOTP)."""

import io

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Authenticator app"


class Command(BaseCommand):
    help = (
        "Create a confirmed TOTP device for a user and print its otpauth:// URI and QR code, "
        "to be scanned with an authenticator app. Use --replace when a phone was lost."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the user's existing TOTP devices first (lost or new phone).",
        )
        parser.add_argument("--no-qr", action="store_true", help="Print the URI only.")

    def handle(self, *args, username, replace, no_qr, **options):
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        with transaction.atomic():
            devices = TOTPDevice.objects.select_for_update().filter(user=user)
            if devices.filter(confirmed=True).exists() and not replace:
                raise CommandError(
                    f"{username} already has an authenticator app; use --replace to change it."
                )
            devices.delete()
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
        self.stdout.write(f"Authenticator app enrolled for {username}. Scan or enter:")
        self.stdout.write(device.config_url)
        if not no_qr:
            code = qrcode.QRCode(border=1)
            code.add_data(device.config_url)
            out = io.StringIO()
            code.print_ascii(out=out, invert=True)
            self.stdout.write(out.getvalue())
        self.stdout.write("Show this only to that person; it is their second factor.")
