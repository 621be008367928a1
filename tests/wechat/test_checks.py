"""The WeChat settings' system checks: off is fine; half, a bad key, no templates are not."""

import pytest

from wechat.checks import wechat_safe_mode_check, wechat_settings_check


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


def test_both_forms_of_templates_pass(settings):
    settings.WECHAT_TEMPLATES = {
        "default": "TPL",
        "reminder": {"id": "TPL-NEW", "fields": {"thing1": "title", "time2": "time"}},
        "registration/visa_expiring": {"id": "TPL-VISA"},
    }
    assert ids() == []


@pytest.mark.parametrize(
    "value",
    [
        "",
        42,
        ["TPL"],
        {"fields": {"thing1": "title"}},
        {"id": "TPL", "fields": {}},
        {"id": "TPL", "fields": ["thing1"]},
        {"id": "TPL", "fields": {"thing1": "passport_number"}},
        {"id": "TPL", "fields": {"thing 1!": "title"}},
        {"id": "TPL", "colour": "#f00"},
    ],
)
def test_unusable_template_entries_are_errors(settings, value):
    settings.WECHAT_TEMPLATES = {"receipt": value}
    assert ids() == ["wechat.E002"]


def test_a_template_under_no_kind_warns(settings):
    settings.WECHAT_TEMPLATES = {"reciept": "TPL"}
    assert ids() == ["wechat.W003"]
    settings.WECHAT_TEMPLATES = "TPL"
    assert ids() == ["wechat.E002"]


def test_deploy_check_wants_safe_mode_when_configured(settings):
    assert wechat_safe_mode_check() == []  # WeChat off: nothing to say
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, settings.WECHAT_TOKEN = "wx", "s", "t"
    settings.WECHAT_ENCODING_AES_KEY = ""
    assert [m.id for m in wechat_safe_mode_check()] == ["wechat.W004"]
    settings.WECHAT_ENCODING_AES_KEY = "k" * 43
    assert wechat_safe_mode_check() == []
