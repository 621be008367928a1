"""Test profile: the embedded default made fast and deterministic.

With ``DATABASE_URL`` and ``REDIS_URL`` set, the same suite runs on PostgreSQL and Redis.
"""

import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import REDIS_URL, env

DEBUG = False
SITE_URL = "https://linli.example.org"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# The test client's login() calls authenticate() without a request, which django-axes
# refuses; the lockout tests switch it on with override_settings(AXES_ENABLED=True).
AXES_ENABLED = False
# Two-factor login is production's; tests/test_security.py checks it with override_settings.
LINLI_REQUIRE_2FA = False
# No hand-over thread: station page views reach the cache when a test hands them over.
STATION_VISITS_HAND_OVER_SECONDS = None
SMS_BACKEND = "notifications.sms.LocmemBackend"
SMS_GATEWAY_URL = ""
# Quiet hours would make SMS tests depend on the time of day; their own tests switch them on.
NOTIFICATIONS_SMS_QUIET_HOURS = None

# Private files of one test run stay apart from the developer's var/.
PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="linli-test-private-"))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.caching.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "linli-test",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tasks run inline when their on-commit callback fires, so a test sees the whole flow.
# Tests marked `celery_worker` switch this off and use a real worker and broker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
if not REDIS_URL:
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT = None  # the URL decides (not the embedded core.broker)
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the browser tests' live server answers the page and its images
    # in parallel threads, and the real worker (tests/celery_support.py) writes from its own
    # thread. Django shares one connection between threads for an in-memory database,
    # which SQLite refuses ("bad parameter or other API misuse"); with a file each thread
    # has its own connection and SQLite's locking orders the writes.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.mkdtemp(prefix="linli-test-db-")) / "test.sqlite3")
    }
