"""The WeChat client against the fake WeChat: real HTTP, WeChat's real error codes."""

import threading
import urllib.parse
import urllib.request

import pytest
from django.core.cache import cache

from wechat import client
from wechat.client import WeChatError, WeChatUnreachable

OPENID = "oAbCdEfGhIjKlMnOpQrStUvWx123"


def send(n=1):
    return [
        client.template_send(OPENID, "TEMPLATE", {"first": "Hello"}, "https://x/") for _ in range(n)
    ]


def test_one_token_for_many_sends(fake_wechat):
    fake_wechat.follow(OPENID)
    msgids = send(20)
    assert len(set(msgids)) == 20
    assert fake_wechat.token_requests == 1
    assert len(fake_wechat.sends) == 20
    assert fake_wechat.sends[0]["data"] == {"first": {"value": "Hello"}}
    assert fake_wechat.sends[0]["touser"] == OPENID


def test_token_shared_by_threads_fetched_once(fake_wechat):
    """Eight workers start at once with no token: one fetches, the others wait for it."""
    fake_wechat.follow(OPENID)
    errors = []
    start = threading.Barrier(8)

    def worker():
        start.wait()
        try:
            send(3)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(fake_wechat.sends) == 24
    assert fake_wechat.token_requests == 1


@pytest.mark.parametrize("refusal", ["expire_tokens", "invalidate_tokens"])
def test_refused_token_refreshed_once(fake_wechat, refusal):
    """42001 (expired) or 40001 (invalid): one new token, the send goes through, then reused."""
    fake_wechat.follow(OPENID)
    send(5)
    getattr(fake_wechat, refusal)()
    send(5)
    assert fake_wechat.token_requests == 2
    assert len(fake_wechat.sends) == 10


def test_token_refused_twice_raises(fake_wechat):
    fake_wechat.follow(OPENID)
    send(1)
    fake_wechat.fail_next("/cgi-bin/message/template/send", 42001, times=2)
    with pytest.raises(WeChatError) as raised:
        send(1)
    assert raised.value.code == 42001
    assert fake_wechat.token_requests == 2  # refreshed once, not in a loop


def test_failed_token_fetch_is_not_cached(fake_wechat):
    fake_wechat.follow(OPENID)
    fake_wechat.fail_next("/cgi-bin/token", -1)
    with pytest.raises(WeChatError) as raised:
        send(1)
    assert raised.value.code == -1
    assert send(1)  # the next call fetches again and succeeds
    assert fake_wechat.token_requests == 2
    assert cache.get(f"wechat:token-lock:{fake_wechat.app_id}") is None


def test_wrong_secret_is_refused(fake_wechat, settings):
    settings.WECHAT_APP_SECRET = "wrong"
    with pytest.raises(WeChatError) as raised:
        client.access_token()
    assert raised.value.code == 40125


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda fake: fake.unsubscribed.add(OPENID), 43004),
        (lambda fake: None, 40003),  # not a follower: WeChat does not know the openid
        (lambda fake: (fake.follow(OPENID), setattr(fake, "quota_exhausted", True)), 45009),
    ],
)
def test_refusals_carry_wechat_codes(fake_wechat, setup, code):
    setup(fake_wechat)
    with pytest.raises(WeChatError) as raised:
        send(1)
    assert raised.value.code == code
    assert OPENID not in str(raised.value)


def test_unreachable(fake_wechat):
    fake_wechat.stop()
    with pytest.raises(WeChatUnreachable) as raised:
        send(1)
    assert raised.value.code == -1


def test_oauth_authorize_and_openid(fake_wechat):
    """The authorisation URL leads (like WeChat) back to the redirect with code and state."""
    fake_wechat.authorize_as = OPENID
    url = client.oauth_authorize_url("https://linli.example.org/wechat/return/", "st4te")
    assert url.endswith("#wechat_redirect")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["scope"] == "snsapi_base"
    assert query["appid"] == fake_wechat.app_id

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(url.split("#")[0], timeout=2)
    assert redirected.value.code == 302
    location = urllib.parse.urlsplit(redirected.value.headers["Location"])
    back = dict(urllib.parse.parse_qsl(location.query))
    assert location.path == "/wechat/return/"
    assert back["state"] == "st4te"
    assert client.oauth_openid(back["code"]) == OPENID
    with pytest.raises(WeChatError) as used:
        client.oauth_openid(back["code"])
    assert used.value.code == 40163
    with pytest.raises(WeChatError) as invalid:
        client.oauth_openid("forged")
    assert invalid.value.code == 40029


def test_media_download(fake_wechat):
    fake_wechat.media["MEDIA1"] = (b"\xff\xd8\xff" + b"0" * 1000, "image/jpeg")
    data, content_type = client.media_download("MEDIA1")
    assert content_type == "image/jpeg"
    assert data.startswith(b"\xff\xd8\xff") and len(data) == 1003
    with pytest.raises(WeChatError) as too_large:
        client.media_download("MEDIA1", max_bytes=100)
    assert too_large.value.code == 40006
    with pytest.raises(WeChatError) as missing:
        client.media_download("NOPE")
    assert missing.value.code == 40007
    assert fake_wechat.token_requests == 1
