"""
Settings shared by every profile of Linli.

Everything is read from the environment through one reader (django-environ). With no
environment at all you get the *embedded default*: SQLite in ``var/``, private files in
``var/``, email to the console and ``var/mail/``, and Celery on a SQLite-file broker in
``var/`` (``core.broker``) — no Redis, no PostgreSQL. ``local.py``, ``test.py`` and
``production.py`` change only what differs.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("LINLI_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()


def _embedded_secret_key() -> str:
    """Return a secret key generated once and kept in ``var/`` (never used in production)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _embedded_key(name: str, make) -> str:
    """Return a key generated once by ``make()`` and kept in ``var/<name>`` (not production)."""
    path = VAR_DIR / name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


# ------------------------------------------------------------------------------
# GENERAL — https://docs.djangoproject.com/en/6.1/ref/settings/#core-settings
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# The public base URL printed in QR codes, links in emails and billboards. Never built from
# the request's Host header: a forged header must not end up on a printed billboard.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ------------------------------------------------------------------------------
# INTERNATIONALISATION — https://docs.djangoproject.com/en/6.1/topics/i18n/
# ------------------------------------------------------------------------------
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en"
# Adding a language is one line here plus its catalogues (see README, "Adding a language").
# Nothing else lists them: the language menu names each one in itself (Django's LANG_INFO,
# core.languages), right-to-left ones get dir="rtl" and Bootstrap's RTL stylesheet
# (Django's LANGUAGES_BIDI), model fields take core.languages.language_choices (so no
# migration), billboards let each station pick among them, and the catalogue tests check
# every one. The names here are translated: staff read them in the admin's lists.
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
    ("ko", _("Korean")),
    ("ja", _("Japanese")),
    ("ru", _("Russian")),
    ("fr", _("French")),
    ("ar", _("Arabic")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The browser's Accept-Language picks the language (LocaleMiddleware); a choice made in
# the language menu is remembered for a year in this cookie.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60

# ------------------------------------------------------------------------------
# APPS — Django / third party / local
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    "workspace.apps.WorkspaceAdminConfig",  # the admin site with Linli's dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "django_countries",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes
]
LOCAL_APPS = [
    "core",  # shared infrastructure; its start-up connects the Celery log signals
    "stations",
    "privacy",
    "notifications",
    "registration",
    "inquiries",
    "workspace",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# ------------------------------------------------------------------------------
# MIDDLEWARE — https://docs.djangoproject.com/en/6.1/topics/http/middleware/
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    "core.middleware.RequestIDMiddleware",
    "core.client.ClientIPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Station pages and QR codes from the cache, answered like static files (stations/pages.py).
    "stations.middleware.StationPagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "workspace.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into the translated lockout page.
    "axes.middleware.AxesMiddleware",
]

# ------------------------------------------------------------------------------
# TEMPLATES — https://docs.djangoproject.com/en/6.1/ref/settings/#templates
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.languages",
            ],
        },
    },
]
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# ------------------------------------------------------------------------------
# DATABASE — https://docs.djangoproject.com/en/6.1/ref/settings/#databases
# ------------------------------------------------------------------------------
# Embedded default: SQLite in var/ in WAL mode, so the web process and the Celery worker
# can read while the other writes. IMMEDIATE transactions avoid "database is locked" on
# upgrade from a read to a write lock.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# A persistent connection may have died since the last request (a terminated backend, a
# failover, a proxy timeout): check it before its first use in each request and open a
# new one instead of answering 500. One connection that dies *during* a request is
# handled by core.db.retry_on_lost_connection on the public submit services.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Sessions in the database (Django's store), with a read or write that met a lost
# connection run again once: a stored registration's receipt never turns into a 400
# "session was deleted" because the session write after the commit met a dead connection.
SESSION_ENGINE = "core.sessions"

# ------------------------------------------------------------------------------
# CACHE — https://docs.djangoproject.com/en/6.1/topics/cache/
# ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis backend with one client per pool (core/caching.py).
            "BACKEND": "core.caching.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "linli",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Shared by the web process and the worker through the file system.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Each web process tallies its station page views in memory and a thread of it adds them
# to the cache counters this often (stations/visits.py); None: no thread (tests hand over).
STATION_VISITS_HAND_OVER_SECONDS = 5

# ------------------------------------------------------------------------------
# STATIC AND PRIVATE FILES — https://docs.djangoproject.com/en/6.1/howto/static-files/
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Residents' documents are private: there is deliberately no MEDIA_URL under which they
# could be served. Files leave storage only through permission-checked views.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
# MEDIA_ROOT/MEDIA_URL are deliberately NOT the private files: the private storage below
# has no base URL at all. (Django's test live server serves MEDIA_ROOT; keep it empty.)
MEDIA_ROOT = VAR_DIR / "no-public-media"
MEDIA_URL = "/no-public-media/"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Largest upload a resident may send in one request (several phone photos).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 20
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# ------------------------------------------------------------------------------
# ENCRYPTION AT REST — https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
# ------------------------------------------------------------------------------
# Travel-document and visa numbers and document photos are encrypted with these Fernet
# keys (comma-separated). The first encrypts, all decrypt: rotate by putting a new key
# first, run `manage.py rotate_registration_keys`, then drop the old one. Required in
# production; the embedded default is generated once into var/.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or [
    # A Fernet key is 32 random bytes in URL-safe base64 with its padding.
    _embedded_key("field_encryption_key", lambda: secrets.token_urlsafe(32) + "=")
]
# Key of the keyed hash (blind index) that lets staff find "E12345678" exactly without
# decrypting every row. Changing it requires recomputing the index.
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="") or _embedded_key(
    "blind_index_key", lambda: secrets.token_urlsafe(48)
)

# ------------------------------------------------------------------------------
# RESIDENCE REGISTRATION
# ------------------------------------------------------------------------------
# The law's deadline after arrival at an address (Exit and Entry Administration Law art. 39).
REGISTRATION_DEADLINE_HOURS = env.int("REGISTRATION_DEADLINE_HOURS", default=24)
# Days before a visa or permit expires on which the resident is reminded to renew.
REGISTRATION_VISA_REMINDER_DAYS = [
    int(d) for d in env.list("REGISTRATION_VISA_REMINDER_DAYS", default=["30", "7", "1"])
]
# A correction request unanswered this long gets a reminder.
REGISTRATION_CORRECTION_REMINDER_HOURS = env.int(
    "REGISTRATION_CORRECTION_REMINDER_HOURS", default=48
)
# A submission still waiting this long after arrival is flagged to the station's officers.
REGISTRATION_STAFF_REMINDER_HOURS = env.int("REGISTRATION_STAFF_REMINDER_HOURS", default=12)
# Language of reminders to station staff (officers work in Chinese).
REGISTRATION_STAFF_LANGUAGE = env.str("REGISTRATION_STAFF_LANGUAGE", default="zh-hans")
# Uploaded photos (core/images.py): largest file; largest image in pixels, read
# from the file's header and refused before anything is decoded; longest side kept after
# re-encoding. 40 MP holds every phone's default photo (12-24 MP) and a 200 MP sensor's
# binned output; a full decode of the largest allowed PNG takes 4 bytes a pixel (160 MB),
# and a process decodes one photo at a time, so that is a web worker's bound.
REGISTRATION_IMAGE_MAX_BYTES = 10 * 1024 * 1024
REGISTRATION_IMAGE_MAX_PIXELS = 40_000_000
REGISTRATION_IMAGE_MAX_SIDE = 2000  # enough to read a passport page; a 12 MP photo decodes at 1/2
# Form attempts never submitted (and their photos, personal data of someone who did not
# register) are deleted after this many hours, checked hourly by beat. A registration is
# due within 24 hours of arrival, so a day is enough to come back to an unfinished form.
REGISTRATION_ATTEMPT_MAX_AGE_HOURS = 24
# Retention (PIPL arts. 19, 47): ended or rejected registrations are deleted with their
# photos this many days after they ended.
REGISTRATION_RETENTION_DAYS = env.int("REGISTRATION_RETENTION_DAYS", default=365)

# ------------------------------------------------------------------------------
# RATE LIMITS — core/ratelimit.py: fixed windows counted in the cache, per name
# ------------------------------------------------------------------------------
# Each limit: at most "limit" per "window" seconds for one key. When the cache is down every
# limit lets requests through and logs a warning (core.ratelimit's docstring says why).
# Addresses are core.client.client_ip's: one resident, or many behind a shared Wi-Fi or a
# carrier's NAT, so limits per address leave room for a few residents at once.
_HOUR = 60 * 60
RATE_LIMITS = {
    # Every POST of the public registration form, per address: the review step and the
    # final submit alike (a resident needs two to five).
    "registration-form": {"limit": 60, "window": _HOUR},
    # Photos received, per form attempt (a few kinds, each sent again a couple of times)
    # and per address; in number and in bytes as uploaded (10 MB at most each). Help
    # requests' photos count per address too.
    "photos-attempt": {"limit": 12, "window": REGISTRATION_ATTEMPT_MAX_AGE_HOURS * _HOUR},
    "photo-bytes-attempt": {
        "limit": 60 * 1024 * 1024,
        "window": REGISTRATION_ATTEMPT_MAX_AGE_HOURS * _HOUR,
    },
    "photos-address": {"limit": 40, "window": _HOUR},
    "photo-bytes-address": {"limit": 200 * 1024 * 1024, "window": _HOUR},
    # Lost-link page: tries per address, and per reference number from one address. Never
    # per reference alone: strangers elsewhere could then lock its resident out.
    "lost-link-address": {"limit": 20, "window": _HOUR},
    "lost-link-reference-address": {"limit": 5, "window": _HOUR},
    # Help requests accepted per address (a refused form does not count).
    "help-request": {"limit": 5, "window": _HOUR},
}

# ------------------------------------------------------------------------------
# PRIVACY — retention of personal data (PIPL arts. 19, 47) and the audit trail
# ------------------------------------------------------------------------------
# Periods in days after which records are deleted or anonymised (with their files) by the
# nightly retention task and `manage.py apply_retention`. The privacy notice shows them.
RETENTION = {
    "registrations_ended_days": REGISTRATION_RETENTION_DAYS,
    "cases_closed_days": env.int("RETENTION_CASES_CLOSED_DAYS", default=365),
    "check_in_answers_days": env.int("RETENTION_CHECK_IN_ANSWERS_DAYS", default=183),
    "outbox_days": env.int("RETENTION_OUTBOX_DAYS", default=90),
    # Staff access logs are kept longer than the data they describe, as evidence.
    "audit_days": env.int("RETENTION_AUDIT_DAYS", default=3 * 365),
}
# Retention rules (dotted paths), each `rule(*, now, dry_run) -> RetentionOutcome`; the
# owning apps add theirs here.
RETENTION_RULES: list[str] = [
    "privacy.retention.audit_entries_expire",
    "registration.retention.registrations_ended_expire",
    "registration.retention.attempts_expire",
    "inquiries.retention.cases_closed_expire",
    "inquiries.retention.check_in_answers_expire",
    "notifications.retention.messages_expire",
]

# ------------------------------------------------------------------------------
# AUTHENTICATION — https://docs.djangoproject.com/en/6.1/topics/auth/
# ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# django-axes first: it refuses a locked-out client before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Lockout after repeated failed staff logins — https://django-axes.readthedocs.io/
# Counted per (username, client IP) so that one attacker cannot lock a colleague out from
# elsewhere; kept in the database so that every web node sees the same count.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.security.lockout_response"  # translated, HTTP 429
AXES_HTTP_RESPONSE_CODE = 429
# The same client address as the rate limits and the logs (core.client).
AXES_CLIENT_IP_CALLABLE = "core.client.client_ip"
# Proxies whose X-Forwarded-For is believed: addresses, networks, or "unix" for a proxy on
# gunicorn's Unix socket (core.client). Empty here: nothing stands in front of `make run`,
# and a header anyone can send is never trusted. production.py trusts the loopback.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Two-step verification for staff (django-otp: TOTP, recovery codes) — workspace/.
# Optional in development and tests so that developers can log in; production.py makes it
# mandatory for every staff request (workspace.middleware and the admin site's login), and
# `check --deploy` fails without it. Nobody enrols an authenticator app on a password
# alone: the first one needs a one-time enrolment code that a station manager or an
# administrator issues in the admin (or `manage.py otp_enroll <username>`).
LINLI_REQUIRE_2FA = env.bool("LINLI_REQUIRE_2FA", default=False)
# How long an enrolment code works (hours); it works once, for one user only.
LINLI_2FA_ENROLMENT_CODE_HOURS = env.int("LINLI_2FA_ENROLMENT_CODE_HOURS", default=24)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Linli")

# ------------------------------------------------------------------------------
# SECURITY — https://docs.djangoproject.com/en/6.1/topics/security/
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Error reports (500 emails, debug pages) hide residents' personal data by field name.
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.security.PersonalDataExceptionReporterFilter"
# Django's built-in Content Security Policy: only this site's own assets, inline scripts
# only with the per-request nonce. No external host anywhere (offline front end).
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# ------------------------------------------------------------------------------
# EMAIL — https://docs.djangoproject.com/en/6.1/topics/email/
# ------------------------------------------------------------------------------
# Embedded default: every message is printed to the console (decoded, private links
# redacted: core/mail.py) and kept whole as a file in var/mail/, where a developer opens the
# private link of a confirmation email.
# Django 6.1's MAILERS replace the EMAIL_* settings (deprecated until Django 2028).
_email_url = env.str("EMAIL_URL", default="")
if _email_url:
    _email = env.email_url_config(_email_url)
    MAILERS = {
        "default": {
            "BACKEND": _email["EMAIL_BACKEND"],
            "OPTIONS": {
                "host": _email.get("EMAIL_HOST", "localhost"),
                "port": _email.get("EMAIL_PORT", 25),
                "username": _email.get("EMAIL_HOST_USER", ""),
                "password": _email.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": bool(_email.get("EMAIL_USE_TLS", False)),
                "use_ssl": bool(_email.get("EMAIL_USE_SSL", False)),
                "timeout": env.int("EMAIL_TIMEOUT", default=10),
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": env.str("EMAIL_BACKEND", default="core.mail.ConsoleAndFileEmailBackend"),
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
    if MAILERS["default"]["BACKEND"] not in (
        "core.mail.ConsoleAndFileEmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    ):
        MAILERS["default"]["OPTIONS"] = {}
# Mail kept on this machine (console, files) instead of delivered is fine here; production
# refuses it unless the operator sets this (core.mail.mail_backends_check).
LINLI_ALLOW_CONSOLE_EMAIL = True
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Linli <noreply@linli.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ------------------------------------------------------------------------------
# CELERY — https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ------------------------------------------------------------------------------
# Embedded default: a broker in one SQLite file, var/broker.sqlite3 (core.broker), so
# `make run` needs no Redis. Not kombu's filesystem transport: its writer creates the
# message file before filling it and its reader takes the file without the writer's lock,
# so a worker could read half a message and die ("Unrecoverable error: JSONDecodeError",
# kombu issue 1551) — and honcho stopped the whole portal with it. The SQLAlchemy
# transport (maintained in kombu 5.7: SQLAlchemy 2, BEGIN IMMEDIATE on SQLite) writes and
# takes each message in one transaction, so no reader ever sees half of one; core.broker
# adds deletion on acknowledgement and a visibility timeout, so a message held by a worker
# killed with kill -9 comes back instead of being lost. An embedded Redis was the other
# choice: the maintained packages build or download a server binary, which `make run`
# (Python and make only) cannot count on.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Short timeouts: publishing must never hang a resident's request when Redis is
        # briefly away. The outbox keeps the message; the sweep re-queues it later.
        "socket_timeout": 2,
        "socket_connect_timeout": 1,
        # A task not acknowledged within this time is handed to another worker. Tasks are
        # idempotent, so a second delivery is harmless; keep it above the longest task.
        "visibility_timeout": 3600,
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = f"sqlite:///{VAR_DIR / 'broker.sqlite3'}"
    CELERY_BROKER_TRANSPORT = "core.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Seconds between polls of an empty queue (each poll is one short transaction).
        "polling_interval": 0.5,
        # A message delivered to a worker that is gone is delivered again after this
        # long. Above the task time limit (5 min) and the longest countdown a worker holds
        # (NOTIFICATIONS_MAX_COUNTDOWN, 10 min); the outbox sweep re-queues lost
        # notifications sooner.
        "visibility_timeout": 15 * 60,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Publishing retries briefly, then gives up; callers catch the error (see notifications).
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# Late acknowledgement with prefetch 1: a task is acknowledged only after it ran, so a
# worker killed mid-task does not lose it — but the task may then run twice. Every Linli
# task therefore is idempotent (takes IDs, checks state under a row lock or unique key).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
# No result backend anywhere (embedded or production): no Linli caller waits for a task's
# result; what a task did is in the database (the outbox), never in a result store.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The beat schedule, in one place. Each entry calls a task that calls a service. Task
# names are ``<app>.<noun>_<verb>``, like services. Renaming one needs no alias: beat
# entries are periodic and carry no state, so a message queued under an old name during a
# deploy is only one run missed, made up by the next.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE: dict = {
    # Re-queue outbox messages whose task was lost (Redis down at publish, restarts).
    "notifications-sweep": {"task": "notifications.messages_sweep", "schedule": 120.0},
    # Every reminder rule once a day, after the SMS quiet hours (local time).
    "reminders-daily": {
        "task": "notifications.reminders_send_due",
        "schedule": crontab(hour=8, minute=30),
    },
    # Personal data past its retention period is deleted at night.
    "privacy-retention": {
        "task": "privacy.retention_apply",
        "schedule": crontab(hour=3, minute=10),
    },
    # Form attempts never submitted, with their photos (REGISTRATION_ATTEMPT_MAX_AGE_HOURS).
    "registration-attempts-delete-old": {
        "task": "registration.attempts_delete_old",
        "schedule": crontab(minute=40),
    },
    # Station page views are counted in the cache; this writes them to the database.
    "stations-visits-flush": {"task": "stations.station_visits_flush", "schedule": 300.0},
    # Cases past their first-response target (urgent ones are due within hours): hourly in
    # office hours. Idempotency keys make each reminder go out once whatever runs it.
    "inquiries-overdue": {
        "task": "inquiries.inquiries_overdue_remind",
        "schedule": crontab(minute=15, hour="8-20"),
    },
}

# ------------------------------------------------------------------------------
# NOTIFICATIONS — message delivery (notifications app) and reminders
# ------------------------------------------------------------------------------
# SMS backend, chosen like EMAIL_BACKEND: notifications.sms.ConsoleBackend, FileBackend
# (keeps files in SMS_FILE_PATH), LocmemBackend (tests) or HttpGatewayBackend (production:
# POSTs JSON with a bearer token to SMS_GATEWAY_URL).
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.FileBackend")
SMS_FILE_PATH = VAR_DIR / "sms"
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=10.0)
# Temporary failures are retried with doubling waits (1 min, 2, 4 … at most 1 h) for this
# many hours after the first attempt; then the message is failed and shown to staff.
NOTIFICATIONS_RETRY_HOURS = env.float("NOTIFICATIONS_RETRY_HOURS", default=24.0)
NOTIFICATIONS_RETRY_BASE_DELAY = 60
NOTIFICATIONS_RETRY_MAX_DELAY = 3600
# Waits up to this long are handed to the broker as a countdown; longer ones are picked up
# by the sweep (keeps ETA tasks well below the Redis visibility timeout).
NOTIFICATIONS_MAX_COUNTDOWN = 600
# The sweep (beat, every 2 min) re-queues due messages not handed to the broker for this
# many seconds.
NOTIFICATIONS_SWEEP_AFTER = 5 * 60
NOTIFICATIONS_SWEEP_BATCH = 1000
# One delivery attempt may run this long (time limit of the notifications.message_deliver
# task; SMTP and the SMS gateway time out after 10 s).
NOTIFICATIONS_DELIVERY_TIME_LIMIT = 60
# An attempt holds its message ("sending") for this lease. A message still "sending" after
# it lost its worker (kill -9, a pool child lost): a redelivered task or the sweep takes it
# over and sends it again with the same Message-ID / SMS key. Twice the time limit, so a
# live attempt is never taken over; lease + sweep interval (≈ 4 min) stay far below the
# Redis visibility_timeout (3600 s, CELERY section), after which the broker would hand the
# unacknowledged task out again anyway (checked: notifications.W001/W002).
NOTIFICATIONS_SENDING_LEASE = 2 * NOTIFICATIONS_DELIVERY_TIME_LIMIT
# After this many attempts that stopped without a result, a message stops as "may have been
# sent" for staff to decide (a message that kills its worker every time must not loop).
NOTIFICATIONS_MAX_INTERRUPTED = 3
# A message waiting for an earlier one of its thread looks again after at least this many
# seconds (the earlier one wakes it as soon as it is finished; this is the fallback).
NOTIFICATIONS_ORDER_WAIT = 60
# No text messages to residents at night (local time); they wait until the morning.
NOTIFICATIONS_SMS_QUIET_HOURS = ("22:00", "08:00")
NOTIFICATIONS_QUIET_HOURS_TIME_ZONE = "Asia/Shanghai"
# Reminder rules (dotted paths), each `rule(*, today, dry_run) -> RuleOutcome`, run daily by
# beat and by `manage.py send_due_reminders`. The owning apps add theirs here.
REMINDER_RULES: list[str] = [
    "registration.reminders.visa_expiring",
    "registration.reminders.visa_expired",
    "registration.reminders.correction_unanswered",
    "registration.reminders.departure_passed",
    "registration.reminders.staff_waiting",
    "inquiries.reminders.inquiries_overdue",
]

# ------------------------------------------------------------------------------
# HELP REQUESTS AND CHECK-IN ROUNDS (inquiries)
# ------------------------------------------------------------------------------
# First-response target per urgency: "hours" counts the clock, "working_days" skips
# Saturdays and Sundays. A case with no public reply by then is "overdue" and its station's
# managers are reminded.
INQUIRY_FIRST_RESPONSE_TARGETS = {
    "urgent": {"hours": 4},
    "normal": {"working_days": 2},
    "low": {"working_days": 5},
}
# How long the "did this help?" link sent on resolution can be used.
INQUIRY_FEEDBACK_VALID_DAYS = 14
# After a case is closed, a resident's reply still reopens it for this many days; later
# they are asked to send a new request.
INQUIRY_REPLY_GRACE_DAYS = 30
# Invitations created per batch when a check-in round is sent.
INQUIRY_CHECK_IN_BATCH_SIZE = 500
# Language of the reminders sent to station staff (officers work in Chinese).
INQUIRY_STAFF_MESSAGE_LANGUAGE = env.str("INQUIRY_STAFF_MESSAGE_LANGUAGE", default="zh-hans")

# ------------------------------------------------------------------------------
# LOGGING — https://docs.djangoproject.com/en/6.1/topics/logging/
# ------------------------------------------------------------------------------
# Every line carries the request ID (X-Request-ID, core.middleware). `LOG_FORMAT=json`
# gives one JSON object per line (the default in production); the `request` object that
# Django attaches to error records is reduced to method and path, never the POST body.
# No line carries a secret (core.logs.redact_secrets): the filter redacts each record, the
# formatters the finished line with its traceback. Django's own handlers are replaced, so
# runserver's request log (django.server) goes through them too.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logs.RequestIDFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {
            "()": "core.logs.PlainFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
        # Django's error mail to ADMINS (none are set by default), as in its own defaults;
        # it goes through the mailer, so a console mailer prints it redacted.
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Without this, Django's default handlers (its own console and runserver's
        # django.server printer) would keep writing unredacted lines beside ours.
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},
    },
}
