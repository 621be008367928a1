"""
Benchmark profile (``make bench``, ``bench/``): the production profile on this machine.

It is ``production.py`` unchanged — DEBUG off, whitenoise's hashed and compressed static
files, persistent PostgreSQL connections, Redis cache and broker, JSON logs — with test
secrets and a dedicated database and Redis database filled in, plus three differences that
a benchmark needs and that ``bench/run.py`` prints:

- ``ROOT_URLCONF = "bench.urls"``: the real URLs plus one bare baseline view (the real
  ``config/urls.py`` never gets a benchmark URL);
- every rate limit (``RATE_LIMITS``) is raised, because the simulated residents come from
  a handful of addresses (``BENCH_KEEP_RATE_LIMITS=1`` keeps the real ones);
- the benchmark client talks plain HTTP to gunicorn on the loopback and says it came through
  the TLS proxy (``X-Forwarded-Proto: https``), exactly as nginx does in production.

Only ``BENCH_*`` variables are read, so a ``DATABASE_URL`` of your shell can never point the
benchmark (which drops and creates its database) at real data.
"""

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent.parent
_VAR = Path(os.environ.get("BENCH_VAR_DIR") or _ROOT / "var" / "bench")
# "sqlite" when PostgreSQL is not reachable: production.py insists on PostgreSQL, so it is
# imported with a placeholder URL and the database is swapped below (reported by run.py).
_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or (
    "postgres://postgres@127.0.0.1:5432/linli_bench"
)
_SQLITE = _DATABASE_URL.startswith("sqlite")

os.environ.update(
    {
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "linli.bench,127.0.0.1,localhost,testserver",
        "SITE_URL": "https://linli.bench",
        "DATABASE_URL": "postgres://placeholder@127.0.0.1:1/none" if _SQLITE else _DATABASE_URL,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/14",
        # Fixed test keys (a Fernet key is 32 bytes in URL-safe base64).
        "FIELD_ENCRYPTION_KEYS": "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
        "BLIND_INDEX_KEY": "bench-only-blind-index-key-" + "y" * 30,
        "LINLI_VAR_DIR": str(_VAR),
        "STATIC_ROOT": str(_VAR / "static"),
        "PRIVATE_MEDIA_ROOT": str(_VAR / "private"),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL") or "WARNING",
        "SMS_BACKEND": "notifications.sms.LocmemBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
)
os.environ.pop("EMAIL_URL", None)

from config.settings.production import *  # noqa: E402, F403
from config.settings.production import DATABASES, STATICFILES_DIRS  # noqa: E402

if _SQLITE:
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _DATABASE_URL.removeprefix("sqlite:///"),
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        "ATOMIC_REQUESTS": False,
    }

ROOT_URLCONF = "bench.urls"
# Extra static files of the benchmark (the whitenoise baseline file), when run.py made them.
if (_VAR / "static-extra").is_dir():
    STATICFILES_DIRS = [*STATICFILES_DIRS, _VAR / "static-extra"]

if os.environ.get("BENCH_KEEP_RATE_LIMITS") != "1":
    RATE_LIMITS = {
        name: {**limit, "limit": 1_000_000_000_000}
        for name, limit in RATE_LIMITS.items()  # noqa: F405
    }
