"""
Settings shared by every profile, read from the environment (README: the variables). With none
you get the *embedded default*: SQLite, files, mail and a SQLite-file Celery broker in ``var/``.
``local.py``, ``test.py`` and ``production.py`` change only what differs.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.settings.wechat import *  # noqa: F403  (WECHAT_*: WeChat, off unless configured)
from core.countries import country_name_overrides

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("LINLI_VAR_DIR", default=str(BASE_DIR / "var")))


def _embedded_key(name: str, nbytes: int, padding: str = "") -> str:
    """Return a random URL-safe key made once and kept in ``var/<name>`` (never production)."""
    path = VAR_DIR / name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes) + padding)
        path.chmod(0o600)
    return path.read_text().strip()


# ---- GENERAL — https://docs.djangoproject.com/en/6.1/ref/settings/#core-settings
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_key("secret_key", 50)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Base URL of QR codes, emails and billboards; never the request's Host (a forgeable header).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---- INTERNATIONALISATION — https://docs.djangoproject.com/en/6.1/topics/i18n/
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en"
# Adding a language: one line here plus its catalogues (README); nothing else lists them.
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
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60  # a choice made in the language menu lasts a year
COUNTRIES_OVERRIDE = country_name_overrides()  # wrong Chinese names fixed: core/countries.py

# ---- APPS — Django / third party / local
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
    "wechat",  # WeChat official account: off unless WECHAT_* are set
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# ---- MIDDLEWARE — https://docs.djangoproject.com/en/6.1/topics/http/middleware/
MIDDLEWARE = [
    "core.middleware.RequestIDMiddleware",
    "core.client.ClientIPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "stations.middleware.StationPagesMiddleware",  # station pages and QR codes (stations/pages.py)
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
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: the translated lockout page
]

# ---- TEMPLATES — https://docs.djangoproject.com/en/6.1/ref/settings/#templates
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

# ---- DATABASE — https://docs.djangoproject.com/en/6.1/ref/settings/#databases
# Embedded default: SQLite, WAL mode and IMMEDIATE transactions (no "database is locked").
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
# A connection that died since the last request is replaced, not a 500 (during one: core.db).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
SESSION_ENGINE = "core.sessions"  # the database's, run again once after a lost connection

# ---- CACHE — https://docs.djangoproject.com/en/6.1/topics/cache/
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
else:  # shared by the web process and the worker through the file system
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
STATION_VISITS_HAND_OVER_SECONDS = 5  # page views per process, then to the cache (visits.py)

# ---- STATIC AND PRIVATE FILES — https://docs.djangoproject.com/en/6.1/howto/static-files/
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Residents' documents: no URL serves them (no base URL), only permission-checked views.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
MEDIA_ROOT = VAR_DIR / "no-public-media"  # not the private files: the live server serves it
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

# ---- ENCRYPTION AT REST — https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
# Fernet keys of document numbers and photos: the first encrypts, all decrypt (README: rotate).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or [
    _embedded_key("field_encryption_key", 32, "=")  # a Fernet key: 32 bytes, padded base64
]
# Key of the blind index that finds "E12345678" without decrypting; changing it means reindexing.
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="") or _embedded_key("blind_index_key", 48)

# ---- RESIDENCE REGISTRATION
# The law's deadline after arrival at an address (Exit and Entry Administration Law art. 39).
REGISTRATION_DEADLINE_HOURS = env.int("REGISTRATION_DEADLINE_HOURS", default=24)
# Reminders: days before a visa expires; hours a correction waits; hours before a deadline.
REGISTRATION_VISA_REMINDER_DAYS = env.list(
    "REGISTRATION_VISA_REMINDER_DAYS", cast=int, default=[30, 7, 1]
)
REGISTRATION_CORRECTION_REMINDER_HOURS = env.int(
    "REGISTRATION_CORRECTION_REMINDER_HOURS", default=48
)
REGISTRATION_STAFF_REMINDER_HOURS = env.int("REGISTRATION_STAFF_REMINDER_HOURS", default=6)
REGISTRATION_STAFF_LANGUAGE = env.str("REGISTRATION_STAFF_LANGUAGE", default="zh-hans")  # officers
# Uploaded photos (core/images.py): largest file; most pixels (from the header, before
# decoding: 40 MP is any phone's photo, 160 MB decoded, one at a time); longest side kept.
REGISTRATION_IMAGE_MAX_BYTES = 10 * 1024 * 1024
REGISTRATION_IMAGE_MAX_PIXELS = 40_000_000
# Longest side kept: enough to read a passport page. 2048, not 2000: a 12 MP phone photo
# (4000 or 4032 px) decoded at 1/2 and a 48-50 MP one at 1/4 fit as decoded, with no
# resampling (core/images.py), and a photo shrunk on the phone to 2048 px decodes straight
# at its 256 px thumbnail's scale (1/8).
REGISTRATION_IMAGE_MAX_SIDE = 2048
REGISTRATION_ATTEMPT_MAX_AGE_HOURS = 24  # unsubmitted attempts and photos: deleted after
REGISTRATION_RETENTION_DAYS = env.int("REGISTRATION_RETENTION_DAYS", default=365)

# ---- RATE LIMITS — core/ratelimit.py: "limit" per "window" seconds per key (fixed windows)
_HOUR = 60 * 60
_ATTEMPT = REGISTRATION_ATTEMPT_MAX_AGE_HOURS * _HOUR
_MB = 1024 * 1024
RATE_LIMITS = {
    "registration-form": {"limit": 60, "window": _HOUR},  # every POST of the form, per address
    # Photos per form attempt and per address, in number and bytes (help requests: per address).
    "photos-attempt": {"limit": 12, "window": _ATTEMPT},
    "photo-bytes-attempt": {"limit": 60 * _MB, "window": _ATTEMPT},
    "photos-address": {"limit": 40, "window": _HOUR},
    "photo-bytes-address": {"limit": 200 * _MB, "window": _HOUR},
    # Lost-link tries per address, and per reference from one address (never per reference).
    "lost-link-address": {"limit": 20, "window": _HOUR},
    "lost-link-reference-address": {"limit": 5, "window": _HOUR},
    "help-request": {"limit": 5, "window": _HOUR},  # accepted per address (not refused ones)
    "passport-read": {"limit": 20, "window": _HOUR},  # OCR of passport photos (~1 s of a worker)
    **WECHAT_RATE_LIMITS,  # noqa: F405  (config/settings/wechat.py)
}

# ---- PRIVACY — retention of personal data (PIPL arts. 19, 47) and the audit trail
# Days after which records and files are deleted or anonymised (nightly; the notice shows them).
RETENTION = {
    "registrations_ended_days": REGISTRATION_RETENTION_DAYS,
    "cases_closed_days": env.int("RETENTION_CASES_CLOSED_DAYS", default=365),
    "check_in_answers_days": env.int("RETENTION_CHECK_IN_ANSWERS_DAYS", default=183),
    "outbox_days": env.int("RETENTION_OUTBOX_DAYS", default=90),
    "audit_days": env.int("RETENTION_AUDIT_DAYS", default=3 * 365),  # evidence: kept longer
}
# Retention rules (dotted paths), `rule(*, now, dry_run) -> RetentionOutcome`; apps add theirs.
RETENTION_RULES: list[str] = [
    "privacy.retention.audit_entries_expire",
    "registration.retention.registrations_ended_expire",
    "registration.retention.attempts_expire",
    "inquiries.retention.cases_closed_expire",
    "inquiries.retention.check_in_answers_expire",
    "notifications.retention.messages_expire",
    "wechat.retention.arrival_photos_expire",
]

# ---- AUTHENTICATION — https://docs.djangoproject.com/en/6.1/topics/auth/
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
# Staff login lockout (https://django-axes.readthedocs.io/) per username and address, in the DB.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.security.lockout_response"  # translated, HTTP 429
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "core.client.client_ip"  # the address of the rate limits and logs
# Proxies whose X-Forwarded-For is believed (core.client): none here; production: the loopback.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Staff two-step verification (django-otp, workspace/): optional here, always on in production.
LINLI_REQUIRE_2FA = env.bool("LINLI_REQUIRE_2FA", default=False)
LINLI_2FA_ENROLMENT_CODE_HOURS = env.int("LINLI_2FA_ENROLMENT_CODE_HOURS", default=24)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Linli")

# ---- SECURITY — https://docs.djangoproject.com/en/6.1/topics/security/
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Error reports (500 emails, debug pages) hide residents' personal data by field name.
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.security.PersonalDataExceptionReporterFilter"
# Only this site's own assets (no external host: offline front end); inline code with the nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    # Linking WeChat (wechat.views) posts on to WeChat's authorisation: only when configured.
    "form-action": [CSP.SELF, *([WECHAT_OPEN_BASE] if WECHAT_APP_ID else [])],  # noqa: F405
    "frame-ancestors": [CSP.NONE],
}

# ---- EMAIL — https://docs.djangoproject.com/en/6.1/topics/email/
# Django 6.1's MAILERS; embedded default: the console (redacted) and var/mail/ (core/mail.py).
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
    _backend = env.str("EMAIL_BACKEND", default="core.mail.ConsoleAndFileEmailBackend")
    _keeps_files = _backend in (
        "core.mail.ConsoleAndFileEmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    )
    _options = {"file_path": str(VAR_DIR / "mail")} if _keeps_files else {}
    MAILERS = {"default": {"BACKEND": _backend, "OPTIONS": _options}}
LINLI_ALLOW_CONSOLE_EMAIL = True  # mail kept on this machine: production refuses (core.mail)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Linli <noreply@linli.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---- CELERY — https://docs.celeryq.dev/en/stable/userguide/configuration.html
# Embedded default: a broker in one SQLite file (core.broker says why), so no Redis to run.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_timeout": 2,  # publishing never hangs a request; the sweep re-queues later
        "socket_connect_timeout": 1,
        "visibility_timeout": 3600,  # then an unacknowledged task goes to another worker
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = f"sqlite:///{VAR_DIR / 'broker.sqlite3'}"
    CELERY_BROKER_TRANSPORT = "core.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "polling_interval": 0.5,  # seconds between polls of an empty queue
        "visibility_timeout": 15 * 60,  # above the task time limit and the longest countdown
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = True  # briefly, then gives up; callers catch the error
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
# Late acks, prefetch 1: a killed worker loses no task, but one may run twice: all idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_TASK_IGNORE_RESULT = True  # no caller waits for one: what a task did is in the database
CELERY_RESULT_BACKEND = None
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# The schedule and which beat sends it: config/settings/beat.py. With Redis every node may run
# beat and only the holder of RedBeat's lock sends; `make run` has one beat and a file.
from config.settings.beat import (  # noqa: E402
    BEAT_LOCK_TIMEOUT,
    BEAT_TICK,
    CELERY_BEAT_SCHEDULE,  # noqa: F401 - the setting itself
)

if REDIS_URL:
    CELERY_BEAT_SCHEDULER = "core.beat:LockedScheduler"  # RedBeat, surviving Redis outages
    CELERY_BEAT_MAX_LOOP_INTERVAL = BEAT_TICK
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    CELERY_REDBEAT_REDIS_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 1}
    CELERY_REDBEAT_KEY_PREFIX = "linli:beat:"
    CELERY_REDBEAT_LOCK_TIMEOUT = BEAT_LOCK_TIMEOUT
else:
    CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# ---- NOTIFICATIONS — message delivery (notifications app) and reminders
# SMS backend, chosen like EMAIL_BACKEND (README: the backends and the HTTP gateway).
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.FileBackend")
SMS_FILE_PATH = VAR_DIR / "sms"
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=10.0)
# Temporary failures retried with doubling waits (1 min … 1 h) this many hours, then failed.
NOTIFICATIONS_RETRY_HOURS = env.float("NOTIFICATIONS_RETRY_HOURS", default=24.0)
NOTIFICATIONS_RETRY_BASE_DELAY = 60
NOTIFICATIONS_RETRY_MAX_DELAY = 3600
NOTIFICATIONS_MAX_COUNTDOWN = 600  # longer waits are left to the sweep, not the broker
NOTIFICATIONS_SWEEP_AFTER = 5 * 60  # the sweep re-queues due messages not published this long
NOTIFICATIONS_SWEEP_BATCH = 1000
NOTIFICATIONS_DELIVERY_TIME_LIMIT = 60  # one attempt (SMTP and SMS time out after 10 s)
# An attempt holds its message this long, then the sweep sends it again with the same identity;
# twice the time limit, far below Redis's visibility_timeout (checked: notifications.W001/W002).
NOTIFICATIONS_SENDING_LEASE = 2 * NOTIFICATIONS_DELIVERY_TIME_LIMIT
NOTIFICATIONS_MAX_INTERRUPTED = 3  # attempts without a result; then "may have been sent"
NOTIFICATIONS_ORDER_WAIT = 60  # a message waiting for its thread looks again (fallback)
NOTIFICATIONS_SMS_QUIET_HOURS = ("22:00", "08:00")  # no SMS or WeChat at night (local time)
NOTIFICATIONS_QUIET_HOURS_TIME_ZONE = "Asia/Shanghai"
# Reminder rules (`rule(*, today, dry_run) -> RuleOutcome`): daily; STAFF_ALERT_RULES: 15 min.
REMINDER_RULES: list[str] = [
    "registration.reminders.visa_expiring",
    "registration.reminders.visa_expired",
    "registration.reminders.correction_unanswered",
    "registration.reminders.departure_passed",
]
STAFF_ALERT_RULES: list[str] = [
    "registration.reminders.staff_waiting",
    "inquiries.reminders.inquiries_overdue",
    "inquiries.reminders.inquiries_unassigned",
]

# ---- HELP REQUESTS AND CHECK-IN ROUNDS (inquiries)
# First-response target per urgency ("working_days" skip weekends); then managers are reminded.
INQUIRY_FIRST_RESPONSE_TARGETS = {
    "urgent": {"hours": 4},
    "normal": {"working_days": 2},
    "low": {"working_days": 5},
}
INQUIRY_FEEDBACK_VALID_DAYS = 14  # how long the "did this help?" link of a resolution works
INQUIRY_UNASSIGNED_ALERT_HOURS = 4  # a case unassigned this long: its officers are told again
INQUIRY_REPLY_GRACE_DAYS = 30  # a resident's reply reopens a closed case this long; later, new
INQUIRY_CHECK_IN_BATCH_SIZE = 500  # invitations created per batch when a round is sent
# Language of the reminders sent to station staff (officers work in Chinese).
INQUIRY_STAFF_MESSAGE_LANGUAGE = env.str("INQUIRY_STAFF_MESSAGE_LANGUAGE", default="zh-hans")

# ---- LOGGING — https://docs.djangoproject.com/en/6.1/topics/logging/
# Request ID on every line, JSON with LOG_FORMAT=json, secrets redacted (core.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
_LOG_LINE = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logs.RequestIDFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"()": "core.logs.PlainFormatter", "fmt": _LOG_LINE},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
        # Django's error mail to ADMINS (none by default), through the mailer, so redacted.
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Else Django's own console and runserver's printer would write unredacted lines.
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},
    },
}
