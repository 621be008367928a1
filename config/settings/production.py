"""
Production profile: PostgreSQL, Redis, HTTPS.

It refuses to start without its secrets, with a one-line reason instead of a traceback.
"""

import ipaddress
import sys

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, REDIS_URL, SITE_URL, env

_REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "SITE_URL")
_missing = [name for name in _REQUIRED if not env.str(name, default="")]
if _missing:
    sys.exit(f"Linli refuses to start: set {', '.join(_missing)} (production settings).")
SECRET_KEY = env.str("SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("django-insecure", "change-me")):
    sys.exit("Linli refuses to start: SECRET_KEY is too short or a well-known default.")
if not SITE_URL.startswith("https://"):
    sys.exit("Linli refuses to start: SITE_URL must be an https:// URL in production.")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    sys.exit("Linli refuses to start: DATABASE_URL must point at PostgreSQL in production.")
# Keys encrypting residents' document numbers and photos, and of their search index: the
# embedded defaults in var/ must never protect real data.
_missing_keys = [
    n for n in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY") if not env.str(n, default="")
]
if _missing_keys:
    sys.exit(f"Linli refuses to start: set {', '.join(_missing_keys)} (production settings).")

DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# HTTPS everywhere; the proxy in front (nginx, deploy/) terminates TLS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = [SITE_URL]

# nginx on this host (deploy/nginx/linli.conf) reaches gunicorn on the loopback or its Unix
# socket and appends the client's address to X-Forwarded-For; only those peers are believed
# (core.client). A proxy elsewhere (load balancer, another container) must be listed.
# config/gunicorn.py reads the same variable with the same default.
TRUSTED_PROXIES = [
    proxy.strip()
    for proxy in env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1", "unix"])
    if proxy.strip()
]
for _proxy in TRUSTED_PROXIES:
    try:
        if _proxy != "unix":
            ipaddress.ip_network(_proxy)
    except ValueError:
        sys.exit(f"Linli refuses to start: TRUSTED_PROXIES has {_proxy!r}, not an IP network.")

# Staff need the second factor (TOTP or a recovery code) on every request; not switchable
# by environment. There is no self-enrolment: a first device needs an enrolment code.
LINLI_REQUIRE_2FA = True

# Email goes to a mail server (EMAIL_URL). A backend that keeps mail on this server (console,
# files) is refused by a system check (`check`, `migrate`) unless the operator sets this; the
# console copy is redacted even then (core/mail.py).
LINLI_ALLOW_CONSOLE_EMAIL = env.bool("LINLI_ALLOW_CONSOLE_EMAIL", default=False)

# ------------------------------------------------------------------------------
# DATABASE — persistent connections, checked before reuse (base.py reads DATABASE_URL).
# With gthread workers each thread holds one connection: workers × threads per node must
# stay below PostgreSQL's max_connections (or put PgBouncer in front, see deploy/README).
# ------------------------------------------------------------------------------
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5

# ------------------------------------------------------------------------------
# FILES — hashed, compressed static files from whitenoise; private files on local disk
# (PRIVATE_MEDIA_ROOT) or, with PRIVATE_STORAGE=s3, in any S3-compatible object store.
# ------------------------------------------------------------------------------
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}
WHITENOISE_MAX_AGE = 60 * 60 * 24 * 365  # file names carry their hash
PRIVATE_STORAGE = env.str("PRIVATE_STORAGE", default="local")
if PRIVATE_STORAGE == "s3":
    STORAGES["default"] = {  # noqa: F405
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("AWS_LOCATION", default="private"),
            # Private bucket: no public ACL, no public URLs; files leave only through
            # Linli's permission-checked views (the URLs below would expire in a minute).
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"}
            if env.bool("AWS_S3_SSE", default=True)
            else {},
        },
    }
elif PRIVATE_STORAGE != "local":
    sys.exit("Linli refuses to start: PRIVATE_STORAGE must be 'local' or 's3'.")

# ------------------------------------------------------------------------------
# REDIS — Celery broker and the cache (rate limits, QR codes) in production.
# ------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL

# ------------------------------------------------------------------------------
# LOGGING — one JSON object per line on stderr, with the request ID (core/logs.py).
# ------------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
