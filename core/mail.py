"""
Email backends that keep mail on this machine, and the check that keeps them off a server.

What a backend prints reaches a log: the terminal of ``make run``, a worker's journal. So
``ConsoleEmailBackend`` never prints the raw MIME message — quoted-printable cuts a private
link at 76 characters and base64 hides it altogether, so no pattern finds it again there.
It prints the message decoded (headers, each text part as text, attachments by name and
size only) and passes that through ``core.logs.redact_secrets``.

``ConsoleAndFileEmailBackend`` is the embedded default: the redacted print plus the whole
message as a file in ``var/mail/``, where a developer opens the private link.

``mail_backends_check`` (registered by core/apps.py) refuses, in production, any backend
that keeps mail on this server instead of delivering it, unless the operator sets
``LINLI_ALLOW_CONSOLE_EMAIL``; and refuses everywhere a console backend that prints raw MIME.
"""

from django.conf import settings
from django.core import checks
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as DjangoFileBackend
from django.utils.module_loading import import_string

from core.logs import redact_secrets

_SEPARATOR = "-" * 79


def email_redacted_text(message) -> str:
    """Return ``message`` (an EmailMessage) as readable text without any secret in it."""
    mime = message.message()
    lines = [f"{name}: {value}" for name, value in mime.items() if not _is_transport(name)]
    for part in mime.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = part.get_filename()
        if part.get_content_maintype() == "text" and not filename:
            lines += ["", f"[{content_type}]", _text_of(part).rstrip("\n")]
        else:
            size = len(part.get_payload(decode=True) or b"")
            lines += ["", f"[{content_type} attachment {filename or ''!r}, {size} bytes]"]
    return redact_secrets("\n".join(lines))


def _is_transport(header: str) -> bool:
    # How the body is encoded says nothing to a reader, and the parts are shown decoded.
    return header.lower() in ("mime-version", "content-type", "content-transfer-encoding")


def _text_of(part) -> str:
    try:
        return part.get_content()
    except (LookupError, ValueError):  # an unknown charset: show what can be read
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")


class ConsoleEmailBackend(DjangoConsoleBackend):
    """Print each message decoded and with its secrets redacted, never as raw MIME."""

    def write_message(self, message):
        self.stream.write(f"{email_redacted_text(message)}\n{_SEPARATOR}\n")


class ConsoleAndFileEmailBackend(DjangoFileBackend):
    """Keep each message as a file in the mailer's ``file_path`` and print it redacted."""

    def send_messages(self, email_messages):
        ConsoleEmailBackend(fail_silently=self.fail_silently).send_messages(email_messages)
        return super().send_messages(email_messages)


def _mailer_backends() -> list[tuple[str, str]]:
    if hasattr(settings, "MAILERS"):
        default = "django.core.mail.backends.smtp.EmailBackend"
        return [
            (f"MAILERS[{alias!r}]", config.get("BACKEND", default))
            for alias, config in settings.MAILERS.items()
        ]
    return [("EMAIL_BACKEND", settings.EMAIL_BACKEND)]


def mail_backends_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Refuse mail backends that would put private links in logs or keep mail undelivered."""
    errors = []
    allowed = settings.LINLI_ALLOW_CONSOLE_EMAIL
    for name, path in _mailer_backends():
        try:
            backend = import_string(path)
        except ImportError:
            continue  # Django reports a backend that does not exist when mail is sent
        if not (isinstance(backend, type) and issubclass(backend, DjangoConsoleBackend)):
            continue
        # Django's file backend writes files, not the console; ours print redacted.
        prints_raw = not issubclass(backend, DjangoFileBackend | ConsoleEmailBackend)
        if prints_raw:
            errors.append(
                checks.Error(
                    f"{name} uses {path}, which prints each email as raw MIME: private "
                    "links cut by quoted-printable or hidden in base64 reach the log.",
                    hint="Use core.mail.ConsoleEmailBackend, which prints them redacted.",
                    id="linli.mail.E002",
                )
            )
        elif not allowed:
            errors.append(
                checks.Error(
                    f"{name} uses {path}: every email, with its private link, stays on this "
                    "server (console or files) instead of reaching the resident.",
                    hint=(
                        "Set EMAIL_URL to the mail server (smtp+tls://user:password@host:587), "
                        "or set LINLI_ALLOW_CONSOLE_EMAIL=True if this server must keep its "
                        "mail (the console copy is redacted; files keep the links)."
                    ),
                    id="linli.mail.E001",
                )
            )
    return errors
