"""Shared infrastructure as an app: what every process connects at start-up."""

from django.apps import AppConfig
from django.core import checks

from core.logs import connect_celery_signals
from core.mail import mail_backends_check


class CoreConfig(AppConfig):
    """Connect the Celery log signals and register the mail backends' check."""

    name = "core"
    verbose_name = "Linli"

    def ready(self):
        connect_celery_signals()
        checks.register(mail_backends_check, checks.Tags.security)
