"""The house every issue builds in: languages, errors, health, settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import path

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)


def test_home_page_follows_the_browser_language(client, station):
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert english.status_code == chinese.status_code == 200
    assert '<html lang="en"' in english.text
    assert "Expat service stations" in english.text
    assert '<html lang="zh-hans"' in chinese.text
    assert "境外人员服务站" in chinese.text
    assert "Shipai Street Expat Service Station" in english.text


def test_language_switch_is_offered_for_every_language_and_remembered(client, station):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
    for code, _label in settings.LANGUAGES:
        assert f'href="/language/{code}/?next=/"' in page
    response = client.get("/language/zh-hans/", {"next": "/"})
    assert response.status_code == 302
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en").text.count('lang="zh-hans"') >= 1
    assert '<html lang="zh-hans"' in client.get("/", HTTP_ACCEPT_LANGUAGE="en").text


def test_unknown_url_gives_translated_styled_404(client):
    english = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert english.status_code == chinese.status_code == 404
    assert "Page not found" in english.text
    assert "bootstrap.min.css" in english.text
    assert "页面不存在" in chinese.text


def _boom(request):
    raise RuntimeError("secret-internal-detail")


urlpatterns = [path("boom/", _boom)]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_server_error_page_is_translated_and_leaks_nothing(client):
    client.raise_request_exception = False
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 500
    assert "出了点问题" in response.text
    assert "secret-internal-detail" not in response.text
    assert "Traceback" not in response.text


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_answers_503_json_when_the_broker_is_down(client, settings):
    from config.celery_app import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["broker"] == "down"


def test_pages_load_no_asset_from_another_host(client, station):
    page = client.get("/").text
    assert "http://" not in page.replace(settings.SITE_URL, "")
    assert "https://" not in page.replace(settings.SITE_URL, "")


def test_csp_header_forbids_external_hosts(client):
    header = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in header
    assert "script-src 'self'" in header
    assert "unsafe-inline" not in header
    assert "http" not in header  # WeChat off: not even its authorisation in form-action


def test_csp_names_wechat_authorisation_only_when_wechat_is_configured():
    code = "from django.conf import settings; print(settings.SECURE_CSP['form-action'])"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    off = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env={k: v for k, v in env.items() if not k.startswith("WECHAT_")},
        capture_output=True,
        text=True,
        check=True,
    )
    on = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env={**env, "WECHAT_APP_ID": "wx0123456789abcdef"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "weixin" not in off.stdout and "'self'" in off.stdout
    assert "https://open.weixin.qq.com" in on.stdout


def _run_production(env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production"})
    env.update(env_overrides)
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "SITE_URL"):
        env.setdefault(name, "")
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secrets():
    result = _run_production({})
    assert result.returncode != 0
    assert "Linli refuses to start" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_a_short_secret_key():
    result = _run_production(
        {
            "SECRET_KEY": "change-me",
            "ALLOWED_HOSTS": "linli.example.org",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/linli",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "SITE_URL": "https://linli.example.org",
        }
    )
    assert result.returncode != 0
    assert "SECRET_KEY is too short" in result.stderr
    assert "Traceback" not in result.stderr


def test_embedded_default_needs_no_environment():
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["LINLI_VAR_DIR"] = str(BASE_DIR / "var" / "test-embedded")
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.local';"
        "django.setup(); from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_TRANSPORT,"
        " s.CELERY_BROKER_URL, s.DEBUG)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    engine, transport, broker, debug = result.stdout.split()
    assert (engine, debug) == ("django.db.backends.sqlite3", "True")
    # The embedded broker is a SQLite file beside the database (core/broker.py).
    assert transport == "core.broker:Transport"
    assert broker == f"sqlite:///{BASE_DIR / 'var' / 'test-embedded' / 'broker.sqlite3'}"
