"""
The official account's menu, set through WeChat's menu API (the fake WeChat checks it as
WeChat does): "My registration" opens /wechat/my/ on SITE_URL.
"""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from wechat import client
from wechat.menu import MY_REGISTRATION_LABEL, PARENT_LABEL, menu_build

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("wechat_menu", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_dry_run_prints_the_menu_and_sends_nothing(fake_wechat, settings):
    settings.SITE_URL = "https://linli.example.org"
    out, err = _run("--dry-run")
    menu = json.loads(out)
    [parent] = menu["button"]
    assert parent["name"] == "邻里 Linli"
    assert parent["sub_button"] == [
        {
            "type": "view",
            "name": "我的登记 My registration",
            "url": "https://linli.example.org/wechat/my/",
        }
    ]
    assert err == ""
    assert fake_wechat.requests == []


def test_the_labels_fit_wechats_sizes_in_bytes():
    assert len(PARENT_LABEL.encode()) <= 16  # a top-level button
    assert len(MY_REGISTRATION_LABEL.encode()) <= 60  # a sub-button
    assert len(MY_REGISTRATION_LABEL.encode()) > 16  # hence under a top-level button


def test_the_menu_is_created_with_the_shared_access_token(fake_wechat, settings):
    client.access_token()  # another process fetched it earlier
    out, _err = _run()
    assert "/wechat/my/" in out
    assert fake_wechat.menu == menu_build()
    assert fake_wechat.token_requests == 1
    assert (
        fake_wechat.menu["button"][0]["sub_button"][0]["url"] == settings.SITE_URL + "/wechat/my/"
    )


def test_an_invalid_token_is_fetched_again_once(fake_wechat):
    client.access_token()
    fake_wechat.invalidate_tokens()  # 40001 on the cached one
    _run()
    assert fake_wechat.menu == menu_build()
    assert fake_wechat.token_requests == 2


def test_a_token_refused_twice_is_a_clear_error(fake_wechat):
    fake_wechat.fail_next("/cgi-bin/menu/create", 40001, times=2)
    with pytest.raises(CommandError, match="errcode 40001"):
        _run()
    assert fake_wechat.menu is None


def test_a_label_too_long_for_the_bar_is_refused_before_and_by_wechat(fake_wechat):
    with pytest.raises(CommandError, match="28 bytes; WeChat takes 1 to 16"):
        _run("--parent", "")
    assert ("POST", "/cgi-bin/menu/create") not in fake_wechat.requests
    _out, err = _run("--dry-run", "--parent", "")
    assert "28 bytes" in err
    # WeChat itself says the same (40018), and 40025 for a sub-button over 60 bytes.
    with pytest.raises(client.WeChatError) as refused:
        client.menu_create(menu_build(parent=""))
    assert refused.value.code == client.INVALID_BUTTON_NAME_SIZE
    with pytest.raises(client.WeChatError) as refused:
        client.menu_create(menu_build(label="我的登记" * 6))
    assert refused.value.code == client.INVALID_SUB_BUTTON_NAME_SIZE
    assert fake_wechat.menu is None


def test_the_entry_alone_in_the_bar_when_its_label_fits(fake_wechat):
    _run("--parent", "", "--label", "我的登记")
    assert fake_wechat.menu == {
        "button": [
            {
                "type": "view",
                "name": "我的登记",
                "url": menu_build()["button"][0]["sub_button"][0]["url"],
            }
        ]
    }


def test_wechat_unreachable_or_off_is_a_clear_error(fake_wechat, settings):
    fake_wechat.stop()
    with pytest.raises(CommandError, match="cannot be reached"):
        _run()
    settings.WECHAT_APP_ID = ""
    with pytest.raises(CommandError, match="not configured"):
        _run()
