"""
Settings shared by every profile of Linli.

Everything is read from the environment through one reader (django-environ). With no
environment at all you get the *embedded default*: SQLite in ``var/``, private files in
``var/``, email to the console and ``var/mail/``, and Celery on kombu's ``filesystem://``
broker in ``var/`` — no Redis, no PostgreSQL. ``local.py``, ``test.py`` and
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
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60

# ------------------------------------------------------------------------------
# APPS — Django / third party / local
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    "config.apps.LinliAdminConfig",  # the admin site with Linli's dashboard
    "config.apps.LinliConfig",  # project-wide commands (otp_enroll)
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
]
LOCAL_APPS = [
    "stations",
    "privacy",
    "notifications",
    "registration",
    "inquiries",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# ------------------------------------------------------------------------------
# MIDDLEWARE — https://docs.djangoproject.com/en/6.1/topics/http/middleware/
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    "config.middleware.RequestIDMiddleware",
    "config.middleware.ClientIPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # QR codes already drawn by this process, answered like static files (public, no session).
    "stations.middleware.QrCodeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.StaffTwoFactorMiddleware",
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
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# ------------------------------------------------------------------------------
# CACHE — https://docs.djangoproject.com/en/6.1/topics/cache/
# ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
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
# Uploaded photos: largest file, largest image in pixels, longest side kept after re-encoding.
REGISTRATION_IMAGE_MAX_BYTES = 10 * 1024 * 1024
REGISTRATION_IMAGE_MAX_PIXELS = 50_000_000
REGISTRATION_IMAGE_MAX_SIDE = 2000  # enough to read a passport page; a 12 MP photo decodes at 1/2
# Unsubmitted form attempts (and their photos) are deleted after this many hours.
REGISTRATION_ATTEMPT_MAX_AGE_HOURS = 48
# Lost-link page: attempts allowed per window, per IP address and per reference number.
REGISTRATION_LOST_LINK_LIMIT = (5, 60 * 60)
# Submissions allowed per IP address and window (a shared Wi-Fi may hold many residents).
REGISTRATION_SUBMIT_LIMIT = (30, 60 * 60)
# Passport photos read (OCR, about a second of a worker each) per IP address and window.
REGISTRATION_PASSPORT_READ_LIMIT = (20, 60 * 60)
# Retention (PIPL arts. 19, 47): ended or rejected registrations are deleted with their
# photos this many days after they ended.
REGISTRATION_RETENTION_DAYS = env.int("REGISTRATION_RETENTION_DAYS", default=365)

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
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"  # translated, HTTP 429
AXES_HTTP_RESPONSE_CODE = 429
# Behind nginx the client's address is in X-Forwarded-For; only the hops added by our own
# proxies are trusted (TRUSTED_PROXY_COUNT, 0 = use the socket's address).
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Two-factor authentication for staff (django-otp, TOTP). Optional in development and
# tests so that developers can log in; production.py makes it mandatory for every staff
# request (config.middleware.StaffTwoFactorMiddleware and the admin site's login).
LINLI_REQUIRE_2FA = env.bool("LINLI_REQUIRE_2FA", default=False)
# A staff user without a device may enrol one right after the password login. Turn it off
# to enrol only through `manage.py otp_enroll <username>` (out of band, by an admin).
LINLI_2FA_SELF_ENROLL = env.bool("LINLI_2FA_SELF_ENROLL", default=True)
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
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.security.PersonalDataExceptionReporterFilter"
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
# Embedded default: every message is printed to the console and kept as a file in
# var/mail/ so that a developer can open the private link from a confirmation email.
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
            "BACKEND": env.str("EMAIL_BACKEND", default="config.mail.ConsoleAndFileEmailBackend"),
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
    if MAILERS["default"]["BACKEND"] != "config.mail.ConsoleAndFileEmailBackend":
        MAILERS["default"]["OPTIONS"] = {}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Linli <noreply@linli.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ------------------------------------------------------------------------------
# CELERY — https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport in var/, so `make run` needs no Redis.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "out"),
        "data_folder_out": str(VAR_DIR / "broker" / "out"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "store_processed": False,
        # Broadcast (remote control) messages; kombu's default is ./control in the cwd.
        "control_folder": str(VAR_DIR / "broker" / "control"),
    }
    # kombu's filesystem transport expects its folders to exist.
    for _folder in ("out", "processed", "control"):
        (VAR_DIR / "broker" / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Short timeouts: publishing must never hang a resident's request when Redis is
        # briefly away. The outbox keeps the message; the sweep re-queues it later.
        "socket_timeout": 2,
        "socket_connect_timeout": 1,
        # A task not acknowledged within this time is handed to another worker. Tasks are
        # idempotent, so a second delivery is harmless; keep it above the longest task.
        "visibility_timeout": 3600,
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
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The beat schedule, in one place. Each entry calls a task that calls a service.
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
    # Station page views are counted in the cache; this writes them to the database.
    "stations-visits-flush": {"task": "stations.tasks.station_visits_flush", "schedule": 300.0},
    # Cases past their first-response target (urgent ones are due within hours): hourly in
    # office hours. Idempotency keys make each reminder go out once whatever runs it.
    "inquiries-overdue": {
        "task": "inquiries.overdue_remind",
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
# The sweep re-queues due messages not handed to the broker for this many seconds, and
# gives up messages stuck in "sending" longer than a task may run (see the time limit).
NOTIFICATIONS_SWEEP_AFTER = 5 * 60
NOTIFICATIONS_SWEEP_BATCH = 1000
NOTIFICATIONS_STUCK_AFTER = 30 * 60
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
# Help requests accepted per IP address and window (seconds); counted in the cache.
INQUIRY_RATE_LIMIT = {"requests": 5, "window": 60 * 60}
# Invitations created per batch when a check-in round is sent.
INQUIRY_CHECK_IN_BATCH_SIZE = 500
# Language of the reminders sent to station staff (officers work in Chinese).
INQUIRY_STAFF_MESSAGE_LANGUAGE = env.str("INQUIRY_STAFF_MESSAGE_LANGUAGE", default="zh-hans")

# ------------------------------------------------------------------------------
# LOGGING — https://docs.djangoproject.com/en/6.1/topics/logging/
# ------------------------------------------------------------------------------
# Every line carries the request ID (X-Request-ID, config.middleware). `LOG_FORMAT=json`
# gives one JSON object per line (the default in production); the `request` object that
# Django attaches to error records is reduced to method and path, never the POST body.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logs.RequestIDFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},
    },
}
