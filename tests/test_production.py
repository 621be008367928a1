"""The production profile: readiness, request IDs, structured logs without personal data."""

import io
import json
import logging
import os
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core import mail
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path
from django.utils.log import AdminEmailHandler
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from core import health
from core.logs import GunicornLogger, JsonFormatter, RequestIDFilter, redact_secrets

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
PASSPORT = "E12345678"
TOKEN = "k3Jx9-QpL2mVn8RtY5wZa7Bc4Df6Gh1JkLmNoPqRsT"


# -- test views ------------------------------------------------------------------------


def _logs_something(request):
    logging.getLogger("linli.test").info("hello from a view")
    return HttpResponse("ok")


@csrf_exempt
@sensitive_post_parameters()
def _failing_form(request):
    document_number = request.POST["document_number"]  # noqa: F841 (a local in the frame)
    raise RuntimeError("the form handler broke")


@csrf_exempt
def _failing_form_without_decorator(request):
    document_number = request.POST["document_number"]  # noqa: F841
    raise RuntimeError("the form handler broke")


urlpatterns = [
    path("logs/", _logs_something),
    path("fail/", _failing_form),
    path("fail-plain/", _failing_form_without_decorator),
]


@pytest.fixture
def json_log():
    """Capture every log line as production writes it (JSON, request ID, filters)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIDFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# -- /readyz ---------------------------------------------------------------------------


@pytest.fixture
def fresh_readiness(monkeypatch):
    monkeypatch.setattr(health, "_migrations_seen_applied", False)


def test_readyz_is_200_when_database_broker_cache_and_migrations_are_ready(client, fresh_readiness):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "cache": "ok",
        "migrations": "ok",
    }


def test_readyz_is_503_while_a_migration_is_not_applied(client, fresh_readiness):
    last = MigrationRecorder.Migration.objects.filter(app="stations").order_by("-id").first()
    last.delete()  # as if the new release's migration had not run yet
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["migrations"] == "pending"
    assert response.json()["status"] == "unavailable"


def test_readyz_is_503_when_the_broker_is_down(client, fresh_readiness):
    from config.celery_app import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["broker"] == "down"


def test_healthz_stays_a_liveness_check_without_migrations(client, fresh_readiness):
    MigrationRecorder.Migration.objects.filter(app="stations").delete()
    assert client.get("/healthz").status_code == 200


# -- request IDs -----------------------------------------------------------------------


def test_every_response_carries_a_new_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


def test_request_id_from_the_proxy_is_kept_and_odd_ones_replaced(client):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="nginx-0123456789abcdef")
    assert kept["X-Request-ID"] == "nginx-0123456789abcdef"
    odd = client.get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert odd["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(odd["X-Request-ID"]) == 32


# -- structured logs -------------------------------------------------------------------


@override_settings(ROOT_URLCONF=__name__)
def test_log_lines_are_json_with_the_request_id_of_their_request(client, json_log):
    response = client.get("/logs/")
    line = next(r for r in _lines(json_log) if r["message"] == "hello from a view")
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "INFO"
    assert line["logger"] == "linli.test"
    assert "time" in line


def test_log_lines_outside_a_request_have_a_placeholder_id(json_log):
    logging.getLogger("linli.test").warning("from a task")
    assert _lines(json_log)[-1]["request_id"] == "-"


@override_settings(ROOT_URLCONF=__name__, ADMINS=["ops@example.org"])
@pytest.mark.parametrize("url", ["/fail/", "/fail-plain/"])
def test_a_failing_form_never_logs_the_passport_number(client, json_log, url):
    client.raise_request_exception = False
    response = client.post(
        url, {"document_number": PASSPORT, "full_name": "Anna Example", "language": "en"}
    )
    assert response.status_code == 500
    lines = _lines(json_log)
    error = next(r for r in lines if r["logger"] == "django.request")
    assert error["level"] == "ERROR"
    assert error["http_method"] == "POST"
    assert "the form handler broke" in error["exception"]
    assert PASSPORT not in json_log.getvalue()
    assert "Anna Example" not in json_log.getvalue()
    # Django's default error mail to ADMINS (with the HTML report) hides it too: POST
    # values and frame locals go through core.security's exception reporter filter.
    assert len(mail.outbox) == 1
    report = mail.outbox[0].body + "".join(alt[0] for alt in mail.outbox[0].alternatives)
    assert "document_number" in report
    assert PASSPORT not in report
    assert "Anna Example" not in report


def test_the_registration_form_failing_never_logs_the_passport_number(
    client, station, json_log, monkeypatch
):
    import registration.forms.register

    def broken(value):
        raise RuntimeError("validator broke")

    monkeypatch.setattr(registration.forms.register, "clean_document_number", broken)
    client.raise_request_exception = False
    email_handler = AdminEmailHandler(include_html=True)  # the detailed HTML report too
    logging.getLogger("django.request").addHandler(email_handler)
    try:
        with override_settings(ADMINS=["ops@example.org"]):
            response = client.post(
                f"/s/{station.code}/register/",
                {"document_number": PASSPORT, "family_name": "Example", "given_names": "Anna"},
            )
    finally:
        logging.getLogger("django.request").removeHandler(email_handler)
    assert response.status_code == 500
    assert "validator broke" in json_log.getvalue()
    assert PASSPORT not in json_log.getvalue()
    assert mail.outbox
    for message in mail.outbox:
        report = message.body + "".join(alt[0] for alt in message.alternatives)
        assert "clean_document_number" in report
        assert PASSPORT not in report


def test_a_task_logs_with_the_request_id_of_the_request_that_queued_it():
    from core import logs

    headers = {}
    token = logs.request_id_var.set("req-0123456789")
    try:
        logs._task_published(headers=headers)
    finally:
        logs.request_id_var.reset(token)
    assert headers == {logs.CELERY_HEADER: "req-0123456789"}
    # In the worker: the header arrives as an attribute of the task's request.
    task = SimpleNamespace(request=SimpleNamespace(**headers))
    logs._task_started(task_id="t-1", task=task)
    assert logs.request_id_var.get() == "req-0123456789"
    logs._task_finished(task_id="t-1")
    assert logs.request_id_var.get() == "-"
    # A task queued by beat has no request: it logs under its own task ID.
    logs._task_started(task_id="t-2", task=SimpleNamespace(request=SimpleNamespace()))
    assert logs.request_id_var.get() == "task-t-2"
    logs._task_finished(task_id="t-2")


def test_private_link_tokens_never_reach_the_log(client, json_log):
    client.get(f"/r/{TOKEN}/", HTTP_ACCEPT_LANGUAGE="en")
    client.get(f"/healthz?token={TOKEN}")
    assert TOKEN not in json_log.getvalue()
    assert redact_secrets(f"GET /r/{TOKEN}/edit/") == "GET /r/[token]/edit/"
    assert redact_secrets("GET /s/shipai/register/") == "GET /s/shipai/register/"


def test_gunicorn_access_log_is_json_with_request_id_and_without_tokens():
    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "-")
    logger = GunicornLogger(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.access_log.handlers = [handler]
    response = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "abc123def456")], sent=5)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/r/{TOKEN}/",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "test",
    }
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    line = json.loads(stream.getvalue())
    assert line["status"] == 200
    assert line["request_id"] == "abc123def456"
    assert line["path"] == "/r/[token]/"
    assert TOKEN not in stream.getvalue()


# -- gunicorn and production settings --------------------------------------------------


def test_gunicorn_config_sizes_workers_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    monkeypatch.setenv("PORT", "9123")
    config = runpy.run_path(str(BASE_DIR / "config" / "gunicorn.py"))
    assert (config["workers"], config["threads"]) == (3, 8)
    assert config["bind"] == "127.0.0.1:9123"
    assert config["worker_class"] == "core.gunicorn_worker.GracefulThreadWorker"
    assert config["timeout"] > 0 and config["graceful_timeout"] > 0
    assert config["logger_class"] == "core.logs.GunicornLogger"


def test_gunicorn_default_workers_follow_the_cpu_count(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    config = runpy.run_path(str(BASE_DIR / "config" / "gunicorn.py"))
    assert 3 <= config["workers"] <= 12


def test_collectstatic_hashes_and_compresses_every_file_including_source_maps(tmp_path):
    from django.core.management import call_command

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", "--no-input", verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    css = manifest["vendor/bootstrap/bootstrap.min.css"]
    assert css != "vendor/bootstrap/bootstrap.min.css"  # hashed name
    assert (tmp_path / (css + ".gz")).exists()
    assert "vendor/bootstrap/bootstrap.min.css.map" in manifest


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

_PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s;"
    "print(json.dumps({'storage': s.STORAGES['default']['BACKEND'],"
    " 'options': s.STORAGES['default'].get('OPTIONS', {}),"
    " 'static': s.STORAGES['staticfiles']['BACKEND'],"
    " 'two_factor': s.LINLI_REQUIRE_2FA, 'proxies': s.TRUSTED_PROXIES,"
    " 'log_format': s.LOGGING['handlers']['console']['formatter'],"
    " 'conn_max_age': s.DATABASES['default']['CONN_MAX_AGE'],"
    " 'health_checks': s.DATABASES['default']['CONN_HEALTH_CHECKS'],"
    " 'hsts': s.SECURE_HSTS_SECONDS, 'secure_cookies': s.SESSION_COOKIE_SECURE"
    " and s.CSRF_COOKIE_SECURE, 'axes': s.AXES_ENABLED, 'cache': s.CACHES['default']['BACKEND']},"
    " default=str))"
)


def _production(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(PRODUCTION_ENV)
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", _PRINT_SETTINGS],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_profile_is_hardened_and_uses_postgres_redis_and_json_logs():
    result = _production()
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["two_factor"] is True
    assert values["axes"] is True
    # nginx on this host: the loopback and gunicorn's Unix socket, nobody else.
    assert values["proxies"] == ["127.0.0.1", "::1", "unix"]
    assert values["log_format"] == "json"
    assert values["conn_max_age"] > 0 and values["health_checks"] is True
    assert values["hsts"] >= 31536000 and values["secure_cookies"] is True
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert values["storage"] == "django.core.files.storage.FileSystemStorage"
    assert values["cache"] == "core.caching.RedisCache"


def test_private_files_move_to_an_s3_bucket_by_settings_alone():
    result = _production(
        PRIVATE_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="linli-private",
        AWS_S3_ENDPOINT_URL="https://s3.example.org",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["storage"] == "storages.backends.s3.S3Storage"
    assert values["options"]["bucket_name"] == "linli-private"
    assert values["options"]["default_acl"] == "private"
    assert values["options"]["file_overwrite"] is False


def test_production_refuses_an_unknown_private_storage():
    result = _production(PRIVATE_STORAGE="ftp")
    assert result.returncode != 0
    assert "Linli refuses to start: PRIVATE_STORAGE" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_a_trusted_proxy_that_is_not_an_address():
    result = _production(TRUSTED_PROXIES="127.0.0.1, nginx")
    assert result.returncode != 0
    assert "Linli refuses to start: TRUSTED_PROXIES has 'nginx'" in result.stderr
    assert "Traceback" not in result.stderr
    assert _production(TRUSTED_PROXIES="10.0.0.0/24, unix").returncode == 0
