"""
Settings of the Celery worker processes ``test_worker_kill.py`` starts (and kills): the test
settings on the test's own database, a real broker, and emails logged to a file.
"""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

DATABASES["default"]["NAME"] = os.environ["LINLI_TEST_DATABASE_NAME"]
MAILERS = {"default": {"BACKEND": "tests.notifications.backends.LoggingEmailBackend"}}
CELERY_TASK_ALWAYS_EAGER = False
