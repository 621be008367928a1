"""
gunicorn configuration for Linli: ``gunicorn -c config/gunicorn.py config.wsgi``.

Every value can be changed by environment variable (see README). Workers are processes,
threads serve requests inside them (gthread): a resident uploading phone photos over a
slow mobile line holds a thread, not a whole process. Each thread keeps one persistent
PostgreSQL connection (CONN_MAX_AGE), so workers × threads × nodes must stay below
PostgreSQL's ``max_connections``.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


_cpus = multiprocessing.cpu_count()

# Listening socket: nginx on this host proxies to it (deploy/nginx/linli.conf). Keep it on
# the loopback or a Unix socket (GUNICORN_BIND=unix:/run/linli/gunicorn.sock): reached
# directly, a visitor would skip nginx's upload and timeout limits.
bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT') or 8000}"
# Processes: the usual 2 × CPU + 1, capped so that a big machine does not open hundreds of
# database connections; WEB_CONCURRENCY overrides (the common PaaS name).
workers = _int("WEB_CONCURRENCY", min(2 * _cpus + 1, 12))
# gunicorn's gthread worker, stopping without resetting a kept-alive or queued connection
# (core/gunicorn_worker.py; bench/drill_shutdown.py measures it).
worker_class = "core.gunicorn_worker.GracefulThreadWorker"
threads = _int("GUNICORN_THREADS", 4)
# A request taking longer than this is killed and logged; uploads are read by nginx first
# (proxy_request_buffering), so only Django's own work counts here.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (deploy, scale-in) a worker finishes its requests for this long first: the
# requests in flight, and one more on each kept-alive connection within `keepalive`. Keep it
# above `timeout` + `keepalive`, and systemd's TimeoutStopSec (docker's stop_grace_period)
# above it.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 40)
# Idle kept-alive connections are closed after this; nginx's upstream keepalive_timeout
# (deploy/nginx/linli.conf, 4 s) is shorter, so nginx never sends a request on a connection
# gunicorn is closing.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then, so that a slow leak never grows without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Only our own proxy may tell us the client's scheme: the proxies Django trusts for the
# client's address (TRUSTED_PROXIES, same default as config/settings/production.py).
# gunicorn always trusts a peer on its Unix socket; "unix" is Django's word for that.
forwarded_allow_ips = ",".join(
    proxy.strip()
    for proxy in os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1,unix").split(",")
    if proxy.strip() not in ("", "unix")
)
limit_request_line = 4094
limit_request_fields = 100

# Logs on stderr (journald or docker collect them): JSON access lines with the request ID
# and without private-link tokens (core.logs.GunicornLogger), errors as JSON too.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = "core.logs.GunicornLogger"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
    "root": {"level": "WARNING", "handlers": []},
}
proc_name = "linli-web"
# gunicorn's control socket (gunicornc) is not used; several instances on one host (web
# nodes, benchmarks) would otherwise share ~/.gunicorn/gunicorn.ctl.
control_socket_disable = True
