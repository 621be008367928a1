"""Application configuration of the wiring itself."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class LinliAdminConfig(AdminConfig):
    """Use Linli's admin site (titles, dashboard) as ``admin.site``."""

    default_site = "config.admin.LinliAdminSite"


class LinliConfig(AppConfig):
    """The project's own wiring as an app: connects the Celery log signals at start-up."""

    name = "config"
    label = "linli"
    verbose_name = "Linli"

    def ready(self):
        from django.core import checks

        from core.logs import connect_celery_signals
        from core.mail import mail_backends_check

        connect_celery_signals()
        checks.register(mail_backends_check, checks.Tags.security)
