"""Fixtures of the WeChat tests: a fake WeChat on 127.0.0.1 and the settings pointing at it."""

import pytest

from tests.wechat.fake_server import FakeWeChat


@pytest.fixture
def fake_wechat(settings):
    """A running fake WeChat; WeChat configured against it (app id, secret, token, bases)."""
    server = FakeWeChat().start()
    settings.WECHAT_APP_ID = server.app_id
    settings.WECHAT_APP_SECRET = server.app_secret
    settings.WECHAT_TOKEN = "callback-token"
    settings.WECHAT_ENCODING_AES_KEY = ""
    settings.WECHAT_API_BASE = server.url
    settings.WECHAT_OPEN_BASE = server.url
    settings.WECHAT_TEMPLATES = {"default": "TEMPLATE-DEFAULT"}
    settings.WECHAT_TIMEOUT = 2.0
    yield server
    server.stop()
