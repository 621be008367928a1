"""
Attack: read private links, passport and visa numbers out of the logs.

With no mail server configured, emails are printed to the console — the terminal of
``make run``, a worker's journal in production — and quoted-printable or base64 used to cut
or hide a private link there, out of the redaction's sight. The development server printed
whole tokens in its request log. Each test below produces what the attacker would read
(emails with long links, requests to private pages, failing requests, gunicorn's access
log) and asserts that nothing captured holds a token, any 8 characters of one, or the
resident's document or visa number.
"""

import email
import email.policy
import io
import json
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery import signals
from django.conf import settings
from django.core import checks
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import override_settings
from django.urls import path, reverse

from core.logs import GunicornLogger, JsonFormatter, redact_secrets
from core.mail import mail_backends_check
from core.tokens import token_new
from registration.models import Registration
from tests.registration.factories import form_data, photos

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
DOCUMENT_NUMBER = "PX7Q49218"
VISA_NUMBER = "VZ0381547"
# Long enough that the link line (≈ 100 characters) is wrapped by quoted-printable at 76.
SITE_URL = "https://linli-expat-service.shipai-street.tianhe.example.org"
TOKEN_IN_PATH = re.compile(r"/(?:registration/r|h|f|check-in)/([A-Za-z0-9_-]{32,100})/")


def _fragments(secret: str, size: int = 8) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def assert_no_secret(text: str, *, tokens, numbers=(DOCUMENT_NUMBER, VISA_NUMBER)):
    """Fail if ``text`` holds a token, any 8 characters of one, or a document number."""
    for token in tokens:
        assert token not in text
        leaked = [piece for piece in _fragments(token) if piece in text]
        assert not leaked, f"fragments of a token in the logs: {leaked}"
    for number in numbers:
        assert number not in text


class _Capture:
    """Everything a log reader could see: stdout, stderr, log records and task arguments."""

    def __init__(self, capsys):
        self.capsys = capsys
        self.out = ""
        self.records: list[str] = []
        self.console = io.StringIO()
        self.task_arguments: list[str] = []

    def text(self) -> str:
        captured = self.capsys.readouterr()
        self.out += captured.out + captured.err
        return "\n".join([self.out, self.console.getvalue(), *self.records, *self.task_arguments])


class _RecordCollector(logging.Handler):
    def __init__(self, capture):
        super().__init__(logging.DEBUG)
        self.capture = capture
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record):
        # The record as any later handler sees it, attributes included (the request path).
        self.capture.records.append(self.format(record) + " " + repr(vars(record)))


@pytest.fixture
def captured(capsys):
    """Capture stdout, every log record at DEBUG and up, the configured console handler's
    real output, and the arguments of every Celery task sent or run."""
    capture = _Capture(capsys)
    root = logging.getLogger()
    console = next(h for h in root.handlers if h.name == "console")
    old_stream = console.setStream(capture.console)
    collector = _RecordCollector(capture)
    root.addHandler(collector)
    old_level = root.level
    root.setLevel(logging.DEBUG)

    def published(body=None, headers=None, **kwargs):
        capture.task_arguments.append(repr(body) + repr(headers))

    def started(args=None, kwargs=None, **extra):
        capture.task_arguments.append(repr(args) + repr(kwargs))

    signals.before_task_publish.connect(published, weak=False)
    signals.task_prerun.connect(started, weak=False)
    try:
        yield capture
    finally:
        signals.before_task_publish.disconnect(published)
        signals.task_prerun.disconnect(started)
        root.removeHandler(collector)
        root.setLevel(old_level)
        console.setStream(old_stream)


@pytest.fixture
def console_mail(settings, tmp_path):
    """The embedded default's mailer (console + files) with a long site URL."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "core.mail.ConsoleAndFileEmailBackend",
            "OPTIONS": {"file_path": str(tmp_path / "mail")},
        }
    }
    settings.SITE_URL = SITE_URL
    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    return tmp_path / "mail"


def _tokens_in_mail_files(folder: Path) -> set[str]:
    """Read the private links out of the mail files, as the resident's mailbox would."""
    tokens = set()
    for file in folder.glob("*.log"):
        for raw in file.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not raw.strip():
                continue
            message = email.message_from_bytes(raw.strip(), policy=email.policy.default)
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    tokens.update(TOKEN_IN_PATH.findall(part.get_content()))
    return tokens


def _register(client, station, django_capture_on_commit_callbacks, **overrides) -> str:
    register_url = reverse("registration:register", args=[station.code])
    data = form_data(document_number=DOCUMENT_NUMBER, visa_number=VISA_NUMBER, **overrides)
    review = client.post(register_url, {**data, **photos()})
    assert review.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        submitted = client.post(register_url, {**data, "step": "submit"})
    assert submitted.status_code == 302
    receipt = client.get(submitted["Location"])
    assert receipt.status_code == 200
    return receipt.context["private_link"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_emails_printed_to_the_log_never_show_a_private_link_or_document_number(
    client, station, console_mail, captured, django_capture_on_commit_callbacks, language
):
    link = _register(
        client, station, django_capture_on_commit_callbacks, preferred_language=language
    )
    token = TOKEN_IN_PATH.search(link).group(1)
    # The resident opens the private page; a stranger tries a token that does not exist.
    assert client.get(link.removeprefix(SITE_URL)).status_code == 200
    wrong, _hash = token_new()
    assert client.get(f"/registration/r/{wrong}/").status_code == 404
    # The lost-link form mails a fresh link (the document number travels in the POST).
    reference = Registration.objects.get().reference
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(
            reverse("registration:lost_link"),
            {"reference": reference, "document_number": DOCUMENT_NUMBER},
        )
    assert resent.status_code == 302

    tokens = _tokens_in_mail_files(console_mail)
    assert token in tokens and len(tokens) >= 2  # the confirmation and the fresh link
    text = captured.text()
    # The emails were printed (the attack had something to read), their links redacted.
    assert reference in captured.out
    assert f"{SITE_URL}/registration/r/[token]/" in captured.out
    assert captured.task_arguments  # the emails went through Celery tasks (by ID)
    assert_no_secret(text, tokens=tokens | {wrong})


def test_text_messages_printed_to_the_log_never_show_a_private_link(
    client, station, console_mail, captured, django_capture_on_commit_callbacks
):
    link = _register(client, station, django_capture_on_commit_callbacks, preferred_channel="sms")
    token = TOKEN_IN_PATH.search(link).group(1)
    text = captured.text()
    assert "SMS to" in captured.out and "/registration/r/[token]/" in captured.out
    assert_no_secret(text, tokens={token})


def test_help_request_link_never_reaches_the_log(
    client, station, console_mail, captured, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/s/{station.code}/help/",
            {
                "category": "housing",
                "subject": "Landlord keeps my deposit",
                "description": "The landlord will not give my deposit back.",
                "urgency": "normal",
                "contact_name": "Amina Diallo",
                "contact_method": "email",
                "email": "amina@example.org",
                "contact_time": "any",
                "language": "en",
            },
        )
    assert response.status_code == 302
    tokens = _tokens_in_mail_files(console_mail)
    assert response["Location"].split("/")[2] in tokens
    assert client.get(response["Location"]).status_code == 200
    assert_no_secret(captured.text(), tokens=tokens)


# -- the development server's request log ---------------------------------------------


def _runserver_logs(request_line: str, status: str = "200") -> None:
    """Log one request exactly as ``manage.py runserver`` does after answering it."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request = SimpleNamespace()  # the socket, which Django attaches to the record
    handler.client_address = ("127.0.0.1", 50000)
    handler.requestline = request_line
    handler.log_message('"%s" %s %s', request_line, status, "1234")


def test_runserver_request_log_never_prints_a_token_or_a_searched_number(captured):
    token, _hash = token_new()
    _runserver_logs(f"GET /registration/r/{token}/ HTTP/1.1")
    _runserver_logs(f"POST /registration/r/{token}/move/ HTTP/1.1", "302")
    _runserver_logs(f"GET /h/{token}/?next=/f/{token}/ HTTP/1.1")
    _runserver_logs(f"GET /check-in/{token}/ HTTP/1.1", "404")
    _runserver_logs(f"GET /admin/registration/registration/?q={DOCUMENT_NUMBER}&p=2 HTTP/1.1")
    _runserver_logs(f"GET /admin/registration/registration/?visa_number={VISA_NUMBER} HTTP/1.1")
    console = captured.console.getvalue()
    # The lines were written by the configured handler, useful parts intact.
    assert "django.server" in console
    assert '"GET /registration/r/[token]/ HTTP/1.1" 200 1234' in console
    assert "?q=[redacted]&p=2" in console
    assert_no_secret(captured.text(), tokens={token})


# -- exception logs that carry the request path ---------------------------------------


def _fails_with_its_path(request, token):
    raise RuntimeError(f"could not render {request.get_full_path()} for token {token}")


urlpatterns = [path("registration/r/<str:token>/", _fails_with_its_path)]


@override_settings(ROOT_URLCONF=__name__)
def test_a_failing_private_page_logs_its_error_without_the_token(client, captured):
    token, _hash = token_new()
    client.raise_request_exception = False
    response = client.get(f"/registration/r/{token}/?document_number={DOCUMENT_NUMBER}")
    assert response.status_code == 500
    console = captured.console.getvalue()
    assert "django.request" in console and "RuntimeError: could not render" in console
    assert_no_secret(captured.text(), tokens={token})


def test_json_lines_of_an_error_with_a_token_stay_valid_json_without_it():
    token, _hash = token_new()
    try:
        raise ValueError(f'bad "link" /r/{token}/ ?q={DOCUMENT_NUMBER}\\x')
    except ValueError:
        record = logging.LogRecord(
            "gunicorn.error",
            logging.ERROR,
            __file__,
            1,
            "Error handling request %s",
            (f"/r/{token}/",),
            sys.exc_info(),
        )
    line = JsonFormatter().format(record)
    parsed = json.loads(line)
    assert parsed["message"] == "Error handling request /r/[token]/"
    assert "ValueError" in parsed["exception"]
    assert_no_secret(line, tokens={token})


# -- gunicorn's access log -------------------------------------------------------------


def test_gunicorn_access_log_never_prints_a_token_or_a_searched_number():
    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "-")
    logger = GunicornLogger(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.access_log.handlers = [handler]
    token, _hash = token_new()
    response = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "a" * 32)], sent=5)
    for path_info, query in [
        (f"/registration/r/{token}/my-data.json", ""),
        (f"/check-in/{token}/", f"token={token}"),
        ("/admin/registration/registration/", f"q={DOCUMENT_NUMBER}&status__exact=submitted"),
    ]:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": "Mozilla/5.0 (iPhone) MicroMessenger/8.0.47",
        }
        logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["path"] for line in lines] == [
        "/registration/r/[token]/my-data.json",
        "/check-in/[token]/?token=[redacted]",
        "/admin/registration/registration/?q=[redacted]&status__exact=submitted",
    ]
    assert_no_secret(stream.getvalue(), tokens={token})


# -- the redaction rule itself ---------------------------------------------------------


def test_a_token_cut_from_its_link_by_a_line_wrap_is_still_redacted():
    # One in thirty such fragments has no digit (found by CI): the rule may not depend on
    # how random the moved part looks. Many tokens, and one fragment of letters only.
    tokens = [token_new()[0] for _ in range(300)] + ["abcdefghijklmnopqrstuVSFiDqgbXcYrvPYHpvBatA"]
    for token in tokens:
        for wrap in ("=\n", "\n", "\r\n  "):
            wrapped = f"https://linli.example.org/registration/r/{token[:22]}{wrap}{token[22:]}/"
            assert token[22:] not in redact_secrets(wrapped), wrapped


def test_redaction_keeps_ordinary_log_text_readable():
    for text in [
        "Registration 42: submitted → registered by user 7.",
        "GET /s/shipai/register/?lang=zh-hans&p=2",
        "request 0f8e9d7c6b5a49382716aabbccddeeff done",
        "Task notifications.message_deliver[3b1f0c9e-8a2d-4c6b-9e1f-2a3b4c5d6e7f] received",
        "PersonalDataExceptionReporterFilter hides internationalization_settings",
    ]:
        assert redact_secrets(text) == text
    once = redact_secrets(f"/r/{token_new()[0]}/?q={DOCUMENT_NUMBER}")
    assert redact_secrets(once) == once == "/r/[token]/?q=[redacted]"


# -- production refuses mail that stays on the server ---------------------------------


def test_a_console_or_file_mailer_is_refused_unless_the_operator_allows_it(settings, tmp_path):
    settings.LINLI_ALLOW_CONSOLE_EMAIL = False
    for backend in (
        "core.mail.ConsoleEmailBackend",
        "core.mail.ConsoleAndFileEmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    ):
        settings.MAILERS = {"default": {"BACKEND": backend}}
        assert [error.id for error in mail_backends_check()] == ["linli.mail.E001"]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
    assert mail_backends_check() == []
    settings.LINLI_ALLOW_CONSOLE_EMAIL = True
    settings.MAILERS = {"default": {"BACKEND": "core.mail.ConsoleEmailBackend"}}
    assert mail_backends_check() == []
    # Django's own console backend prints raw MIME: refused even where consoles are allowed.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    errors = mail_backends_check()
    assert [error.id for error in errors] == ["linli.mail.E002"]
    assert all(error.level == checks.ERROR for error in errors)


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "test-" + "s" * 60,
    "ALLOWED_HOSTS": "linli.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/linli",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SITE_URL": "https://linli.example.org",
    "FIELD_ENCRYPTION_KEYS": "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
    "BLIND_INDEX_KEY": "test-only-blind-index-key-" + "y" * 30,
}


def _check_deploy(tmp_path, **overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "EMAIL_", "LINLI_"))
    }
    env.update(PRODUCTION_ENV, LINLI_VAR_DIR=str(tmp_path / "var"), **overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_check_deploy_fails_with_console_email_unless_allowed(tmp_path):
    refused = _check_deploy(tmp_path)
    assert refused.returncode != 0
    assert "linli.mail.E001" in refused.stderr
    assert "EMAIL_URL" in refused.stderr
    allowed = _check_deploy(tmp_path, LINLI_ALLOW_CONSOLE_EMAIL="True")
    assert "linli.mail.E001" not in allowed.stderr + allowed.stdout
    delivered = _check_deploy(tmp_path, EMAIL_URL="smtp+tls://linli:secret@smtp.example.org:587")
    assert delivered.returncode == 0, delivered.stderr
    assert "linli.mail" not in delivered.stderr + delivered.stdout
