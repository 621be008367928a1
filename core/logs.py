"""
Structured logging: the request ID on every line, JSON in production, no secrets.

``RequestIDMiddleware`` (core/middleware.py) puts the request's ID in a context variable;
``RequestIDFilter`` copies it onto each log record (``-`` outside a request) and removes
what must never reach a log: the ``request`` object Django attaches to error records
(reduced to method and path) and every secret ``redact_secrets`` knows. ``PlainFormatter``
and ``JsonFormatter`` redact the finished line once more (tracebacks, extras), so a record
that reached a handler without the filter still leaves no secret. ``GunicornLogger`` writes
gunicorn's access log in the same shape.

``redact_secrets`` is the one definition of what a log line may not show; the console email
and SMS backends (core/mail.py, notifications/sms.py), runserver's request log (LOGGING's
``django.server``) and gunicorn's access log all go through it.

This module is imported by logging configuration, so it imports nothing from Django that
needs settings.
"""

import contextvars
import logging
import re

from gunicorn.glogging import Logger as _GunicornBaseLogger
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REDACTED = "[token]"
REDACTED_VALUE = "[redacted]"

_T = r"A-Za-z0-9_\-"  # the alphabet of URL-safe base64, which our tokens are written in
# A URL segment or a value of 20+ such characters is a secret token (≥ 128 random bits),
# not a word: a private-link or check-in token is a bearer credential.
_TOKEN_AFTER_SEPARATOR_RE = re.compile(rf"(?<=[/=])[{_T}]{{20,}}")
# A run of 20+ of them mixing upper case, lower case and digits is random wherever it
# stands: a line wrap or an encoder may have cut it off from its "/" (32 random bytes have
# all three with a probability of 1 - 10⁻³). Words, identifiers, hex digests and request IDs
# lack one of the three and stay readable.
_RANDOM_RUN_RE = re.compile(
    rf"(?<![{_T}])(?=[{_T}]*[A-Z])(?=[{_T}]*[a-z])(?=[{_T}]*[0-9])[{_T}]{{20,}}"
)
# A WeChat openid (28 characters from "o", mixed case, in about 1 % without a digit, which
# the rule above would miss): it identifies a resident's WeChat account.
_OPENID_RE = re.compile(rf"(?<![{_T}])o(?=[{_T}]*[A-Z])(?=[{_T}]*[a-z])[{_T}]{{27}}(?![{_T}])")
# The rest of a token a line wrap moved to the next line (a quoted-printable soft break
# "=\n", or a plain wrap): whatever token characters start the line after a redacted
# token are its continuation, however few or however ordinary they look.
_TOKEN_CONTINUATION_RE = re.compile(rf"(?<=\[token\])(=?\r?\n[ \t]*)[{_T}]+")
# Query-string values: a search box (the admin's ?q=) may hold a passport or visa number,
# and a token may travel as ?token=. Only values that cannot be personal data stay: short
# numbers (page, id) and lowercase codes (status, language, ordering).
_QUERY_VALUE_RE = re.compile(r"(?<=[?&])([A-Za-z0-9_.\-\[\]%]{1,64})=([^&\s\"'\\#<>]*)")
_HARMLESS_VALUE_RE = re.compile(r"\d{1,6}|[a-z][a-z_-]{0,29}")
_ALWAYS_REDACTED_KEYS = frozenset(
    {"q", "search", "token", "document_number", "visa_number", "openid"}
)


def _query_value_redact(match: re.Match) -> str:
    key, value = match.group(1), match.group(2)
    if not value or (
        key.lower() not in _ALWAYS_REDACTED_KEYS and _HARMLESS_VALUE_RE.fullmatch(value)
    ):
        return match.group(0)
    return f"{key}={REDACTED_VALUE}"


def redact_secrets(text: str) -> str:
    """
    Return ``text`` without secrets: private-link tokens and other long random tokens
    become ``[token]``, query-string values that could hold a document or visa number
    become ``[redacted]``. Safe to apply twice.
    """
    if not text:
        return text
    text = _TOKEN_AFTER_SEPARATOR_RE.sub(REDACTED, text)
    text = _RANDOM_RUN_RE.sub(REDACTED, text)
    text = _OPENID_RE.sub(REDACTED, text)
    text = _TOKEN_CONTINUATION_RE.sub(lambda m: m.group(1) + REDACTED, text)
    if "=" in text:
        text = _QUERY_VALUE_RE.sub(_query_value_redact, text)
    return text


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
    # Not at the top: logging config imports this module in every process.
    from celery import signals

    signals.before_task_publish.connect(_task_published, weak=False)
    signals.task_prerun.connect(_task_started, weak=False)
    signals.task_postrun.connect(_task_finished, weak=False)


class RequestIDFilter(logging.Filter):
    """Add ``request_id`` to every record and strip personal data and secrets from it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        request = record.__dict__.pop("request", None)
        if request is not None and hasattr(request, "path"):
            record.http_method = getattr(request, "method", "")
            record.http_path = redact_secrets(request.path)
        # The record itself is changed, so every handler after this one (a test's capture,
        # an error mail) sees the redacted text too.
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it as usual
            return True
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info:
            # The traceback as text, redacted; the exception object itself (its message may
            # hold a path with a token) goes, as every formatter falls back to the text.
            if not record.exc_text:
                record.exc_text = _traceback_formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True


_traceback_formatter = logging.Formatter()


class PlainFormatter(logging.Formatter):
    """One readable line per record (plus its traceback), with secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_secrets(super().format(record))


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

    def format(self, record: logging.LogRecord) -> str:
        # The replacements contain no character JSON escapes, and the query rule stops at
        # quotes and backslashes, so the line stays valid JSON.
        return redact_secrets(super().format(record))


class GunicornLogger(_GunicornBaseLogger):
    """Gunicorn logger whose access log is structured and never contains secrets."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in (resp.headers or [])}
        query = environ.get("QUERY_STRING", "")
        path = redact_secrets(environ.get("PATH_INFO", "") + (f"?{query}" if query else ""))
        self.access_log.info(
            "%s %s %s",
            environ.get("REQUEST_METHOD", "-"),
            path,
            str(resp.status).split(None, 1)[0],
            extra={
                # Django's request shares this environ: core.client.ClientIPMiddleware has
                # already put the client there, by the one rule for trusted proxies.
                "remote_addr": environ.get("REMOTE_ADDR") or "-",
                "method": environ.get("REQUEST_METHOD"),
                "path": path,
                "status": int(str(resp.status).split(None, 1)[0]),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "user_agent": environ.get("HTTP_USER_AGENT", "-"),
                "request_id": headers.get("x-request-id", "-"),
            },
        )
