"""The WeChat settings' system checks: off is fine; half, a bad key, no templates are not."""

from wechat.checks import wechat_settings_check


def ids():
    return [message.id for message in wechat_settings_check()]


def test_off_is_fine(settings):
    assert settings.WECHAT_APP_ID == ""
    assert ids() == []


def test_half_configured_warns(settings):
    settings.WECHAT_APP_ID = "wx123"
    assert ids() == ["wechat.W001"]


def test_key_of_the_wrong_length_is_an_error(settings):
    settings.WECHAT_ENCODING_AES_KEY = "short"
    assert ids() == ["wechat.E001"]


def test_configured_without_templates_warns(settings):
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, settings.WECHAT_TOKEN = "wx", "s", "t"
    settings.WECHAT_TEMPLATES = {}
    assert ids() == ["wechat.W002"]
    settings.WECHAT_TEMPLATES = {"default": "TPL"}
    settings.WECHAT_ENCODING_AES_KEY = "k" * 43
    assert ids() == []
