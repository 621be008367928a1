"""Health views for load balancers and probes: ``/healthz`` (alive) and ``/readyz`` (ready)."""

import logging

from celery import current_app as celery_app
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("Health check: database does not answer")
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.warning("Health check: broker does not answer", exc_info=True)
        return False


@never_cache
@require_GET
def healthz(request):
    """Report whether the database and the broker answer, as JSON (200 or 503)."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "down" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


def _cache_ok() -> bool:
    try:
        cache.set("linli:readyz", "1", timeout=10)
        return cache.get("linli:readyz") == "1"
    except Exception:
        logger.warning("Readiness check: cache does not answer", exc_info=True)
        return False


# Once this process has seen every migration applied it stays so (a new release with new
# migrations comes with new processes), so the migration graph is loaded only until then.
_migrations_seen_applied = False


def _migrations_applied() -> bool:
    global _migrations_seen_applied
    if _migrations_seen_applied:
        return True
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        logger.exception("Readiness check: cannot read the migration state")
        return False
    if plan:
        logger.warning("Readiness check: %d migration(s) not applied", len(plan))
        return False
    _migrations_seen_applied = True
    return True


@never_cache
@require_GET
def readyz(request):
    """
    Report whether this process may take traffic, as JSON (200 or 503): the database and
    the broker answer, the cache works and every migration is applied. A load balancer
    sends requests only to ready nodes; ``/healthz`` only says that the process lives.
    """
    checks = {"database": _database_ok(), "broker": _broker_ok(), "cache": _cache_ok()}
    checks["migrations"] = checks["database"] and _migrations_applied()
    ready = all(checks.values())
    body = {"status": "ok" if ready else "unavailable"}
    body.update({name: "ok" if ok else "down" for name, ok in checks.items()})
    if not checks["migrations"] and checks["database"]:
        body["migrations"] = "pending"
    return JsonResponse(body, status=200 if ready else 503)
