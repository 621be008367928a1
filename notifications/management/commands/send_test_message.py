"""``manage.py send_test_message --to ADDRESS [--channel sms] [--language zh-hans]``."""

import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from notifications.constants import Channel
from notifications.services import message_queue


class Command(BaseCommand):
    help = "Queue a test message through the outbox, to check email or SMS delivery end to end."

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, help="Email address or phone (+8613…).")
        parser.add_argument("--channel", choices=Channel.values, default=Channel.EMAIL)
        parser.add_argument(
            "--language",
            choices=[code for code, _label in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
        )

    def handle(self, *args, to, channel, language, **options):
        if not to.strip():
            raise CommandError("--to must not be empty.")
        with transaction.atomic():
            message = message_queue(
                template="notifications/test",
                language=language,
                channel=channel,
                to=to,
                context={},
                idempotency_key=f"test-message:{uuid.uuid4()}",
            )
        self.stdout.write(f"Queued message {message.pk} ({channel}) to {to}.")
