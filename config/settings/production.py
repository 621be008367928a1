"""
Production profile: PostgreSQL, Redis, HTTPS.

It refuses to start without its secrets, with a one-line reason instead of a traceback.
"""

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

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}
CELERY_BROKER_URL = REDIS_URL
