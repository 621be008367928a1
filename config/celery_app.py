"""
The one Celery app of Linli.

Settings come from Django's settings under the ``CELERY_`` namespace (see
``config/settings/base.py`` for the trade-offs: late acks, prefetch 1, idempotent tasks).
Apps declare their tasks with ``@shared_task`` and never import this module.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("linli")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
