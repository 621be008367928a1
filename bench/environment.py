"""
The benchmark's surroundings: its PostgreSQL database and Redis database, and the
environment and ``manage.py`` of the processes it starts (bench/run.py, load.py, drill.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT, log

VAR = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "linli_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def pg_setup(name: str = "") -> bool:
    """Drop and create the benchmark database (or ``name``); return whether PostgreSQL is
    reachable."""
    name = name or PG_DB
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return True
    except Exception as error:
        log(f"PostgreSQL not reachable ({type(error).__name__}: {error}); using SQLite.")
        return False


def pg_drop(name: str = "") -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name or PG_DB}" WITH (FORCE)')


def pg_copy(name: str, *, source: str = "") -> None:
    """Create ``name`` afresh as a copy of the benchmark database (or ``source``), which no
    connection may use meanwhile."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # Copied as files, then a checkpoint: the default strategy (PostgreSQL 15) writes the
        # whole copy to the WAL, whose checkpoints would then run during the measurement.
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source or PG_DB}" STRATEGY FILE_COPY')
        conn.execute("CHECKPOINT")


def redis_flush() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
        return True
    except Exception as error:
        log(f"Redis not reachable at {REDIS_URL}: {error}")
        return False


def child_env(
    database_url: str,
    *,
    redis_url: str = "",
    var: Path | None = None,
    settings: str = "config.settings.bench",
) -> dict:
    """The environment of the benchmark's processes: only BENCH_* variables point at data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings,
            "BENCH_DATABASE_URL": database_url,
            "BENCH_REDIS_URL": redis_url or REDIS_URL,
            "BENCH_VAR_DIR": str(var or VAR),
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def manage(env: dict, *args: str, root: Path = ROOT) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=root, env=env, check=True)  # noqa: S603
