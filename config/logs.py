"""
Structured logging: the request ID on every line, JSON in production, no personal data.

``RequestIDMiddleware`` (config/middleware.py) puts the request's ID in a context variable;
``RequestIDFilter`` copies it onto each log record (``-`` outside a request) and removes
what must never reach a log: the ``request`` object Django attaches to error records
(reduced to method and path) and long random tokens in URLs (private links, check-in
links), which are replaced by ``[token]``. ``JsonFormatter`` writes one JSON object per
line; ``GunicornLogger`` writes gunicorn's access log in the same shape.

This module is imported by logging configuration, so it imports nothing from Django that
needs settings.
"""

import contextvars
import logging
import re

from gunicorn.glogging import Logger as _GunicornBaseLogger
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A URL segment or query value of 20+ URL-safe characters is a secret token (≥ 128 random
# bits), not a word: it is a bearer credential and stays out of every log.
_TOKEN_RE = re.compile(r"(?<=[/=])[A-Za-z0-9_\-]{20,}")
REDACTED = "[token]"


def redact_tokens(text: str) -> str:
    """Replace long random tokens in URLs inside ``text`` by a placeholder."""
    return _TOKEN_RE.sub(REDACTED, text)


# -- Celery: a task logs with the ID of the request that queued it ----------------------

CELERY_HEADER = "linli_request_id"
_task_tokens: dict[str, contextvars.Token] = {}


def _task_published(headers=None, **kwargs):
    request_id = request_id_var.get()
    if headers is not None and request_id != "-":
        headers[CELERY_HEADER] = request_id


def _task_started(task_id=None, task=None, **kwargs):
    queued_by = getattr(getattr(task, "request", None), CELERY_HEADER, None)
    current = request_id_var.get()
    request_id = queued_by or (current if current != "-" else f"task-{task_id}")
    _task_tokens[task_id] = request_id_var.set(request_id)


def _task_finished(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)


def connect_celery_signals() -> None:
    """Carry the request ID from the web request into the Celery task it queued."""
    from celery import signals

    signals.before_task_publish.connect(_task_published, weak=False)
    signals.task_prerun.connect(_task_started, weak=False)
    signals.task_postrun.connect(_task_finished, weak=False)


class RequestIDFilter(logging.Filter):
    """Add ``request_id`` to every record and strip personal data and tokens from it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        request = record.__dict__.pop("request", None)
        if request is not None and hasattr(request, "path"):
            record.http_method = getattr(request, "method", "")
            record.http_path = redact_tokens(request.path)
        message = record.getMessage()
        if "/" in message or "=" in message:
            redacted = redact_tokens(message)
            if redacted != message:
                record.msg, record.args = redacted, ()
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: time, level, logger, message, request ID and extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault(
            "rename_fields", {"levelname": "level", "name": "logger", "exc_info": "exception"}
        )
        kwargs.setdefault("json_default", str)
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_data, record, message_dict):
        super().add_fields(log_data, record, message_dict)
        log_data.setdefault("request_id", getattr(record, "request_id", request_id_var.get()))
        # Never serialise a request object (it would be str()-ed; still, keep it out).
        log_data.pop("request", None)


class GunicornLogger(_GunicornBaseLogger):
    """Gunicorn logger whose access log is structured and never contains tokens."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in (resp.headers or [])}
        query = environ.get("QUERY_STRING", "")
        path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        self.access_log.info(
            "%s %s %s",
            environ.get("REQUEST_METHOD", "-"),
            redact_tokens(path),
            str(resp.status).split(None, 1)[0],
            extra={
                # The hop our nginx appended; what the client wrote before it is ignored.
                "remote_addr": environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
                or environ.get("REMOTE_ADDR", "-"),
                "method": environ.get("REQUEST_METHOD"),
                "path": redact_tokens(path),
                "status": int(str(resp.status).split(None, 1)[0]),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "user_agent": environ.get("HTTP_USER_AGENT", "-"),
                "request_id": headers.get("x-request-id", "-"),
            },
        )
