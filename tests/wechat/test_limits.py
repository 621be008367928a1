"""
What one address can make the WeChat pages do, tried as an attacker does: "My registration"
(each opening writes a session), the linking pages, a photo's confirmation page guessed
token after token, and the callback flooded — each ends in a quick 429, never a 500.
"""

import logging

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse

from tests.wechat.callbacks import CALLBACK_URL, image_xml, post_plain, sha1_signature

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.7"
RESIDENT = "203.0.113.50"
TOKEN = "callback-token"


@pytest.fixture
def small_limits(settings):
    """The WeChat limits at a few requests, so a test sends a few dozen, not hundreds."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        **{name: {"limit": 5, "window": 3600} for name in settings.WECHAT_RATE_LIMITS},
    }
    return 5


def test_every_wechat_limit_is_declared_once_in_rate_limits():
    for name, limit in settings.WECHAT_RATE_LIMITS.items():
        assert settings.RATE_LIMITS[name] == limit
    # Generous for WeChat's own servers: ten a second from one of their addresses.
    assert settings.RATE_LIMITS["wechat-callback"] == {"limit": 600, "window": 60}


def test_my_registration_opened_over_and_over_writes_no_more_sessions(
    client, fake_wechat, small_limits
):
    statuses = [
        client.get(reverse("wechat:my"), REMOTE_ADDR=ATTACKER).status_code
        for _ in range(small_limits + 3)
    ]
    assert statuses == [302] * small_limits + [429] * 3
    sessions = Session.objects.count()
    client.cookies.clear()  # a new visitor each time, as a script without cookies is
    assert client.get(reverse("wechat:my"), REMOTE_ADDR=ATTACKER).status_code == 429
    assert Session.objects.count() == sessions
    assert ("GET", "/sns/oauth2/access_token") not in fake_wechat.requests
    # Somebody else opens the menu entry as usual.
    assert client.get(reverse("wechat:my"), REMOTE_ADDR=RESIDENT).status_code == 302


def test_the_limited_page_is_translated(client, fake_wechat, small_limits):
    for _ in range(small_limits):
        client.get(reverse("wechat:my"), REMOTE_ADDR=ATTACKER)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse("wechat:my"), REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "Too many requests" not in text
    assert "请求" in text
    assert response["Cache-Control"].startswith("max-age=0")


def test_crafted_returns_and_link_posts_are_limited(client, fake_wechat, small_limits, caplog):
    caplog.set_level(logging.WARNING)
    urls = [
        ("get", reverse("wechat:bind_return") + "?state=abc&code=stolen"),
        ("post", reverse("wechat:bind_start", args=["A" * 43])),
        ("post", reverse("wechat:unbind", args=["A" * 43])),
        ("post", reverse("wechat:bind_start_offered")),
    ]
    statuses = [
        getattr(client, method)(url, REMOTE_ADDR=ATTACKER).status_code for method, url in urls * 2
    ]
    assert statuses[:small_limits] == [400, 404, 404, 404, 400]
    assert statuses[small_limits:] == [429] * (len(statuses) - small_limits)
    assert "rate limit reached" in caplog.text
    # The code in the crafted returns never reached WeChat.
    assert ("GET", "/sns/oauth2/access_token") not in fake_wechat.requests


def test_guessing_arrival_links_is_limited(client, small_limits):
    guesses = [reverse("wechat:arrival", args=[f"{n:043d}"]) for n in range(small_limits + 2)] + [
        reverse("wechat:arrival_photo", args=["B" * 43, "entry_stamp"])
    ]
    statuses = [client.get(url, REMOTE_ADDR=ATTACKER).status_code for url in guesses]
    assert statuses == [404] * small_limits + [429] * 3
    assert client.post(guesses[0], {}, REMOTE_ADDR=ATTACKER).status_code == 429
    assert client.get(guesses[0], REMOTE_ADDR=RESIDENT).status_code == 404


def test_a_flood_of_callbacks_is_refused_quickly_and_logged(
    client, fake_wechat, small_limits, caplog
):
    caplog.set_level(logging.WARNING)
    forged = {"signature": "0" * 40, "timestamp": "1", "nonce": "1"}
    statuses = [
        client.post(
            CALLBACK_URL
            + "?signature={signature}&timestamp={timestamp}&nonce={nonce}".format(**forged),
            "<xml/>",
            content_type="text/xml",
            REMOTE_ADDR=ATTACKER,
        ).status_code
        for _ in range(small_limits + 2)
    ]
    assert statuses == [403] * small_limits + [429] * 2
    # Over the limit the body is not even read: a huge one is refused the same way, not 413.
    huge = "<xml>" + "x" * (settings.WECHAT_CALLBACK_MAX_BYTES + 10) + "</xml>"
    response = client.post(CALLBACK_URL, huge, content_type="text/xml", REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429 and response.content == b"rate_limited"
    assert "WeChat callback refused (rate_limited) from 198.51.100.7" in caplog.text
    # The server verification counts too.
    timestamp = "1700000000"
    signed = {
        "timestamp": timestamp,
        "nonce": "7",
        "echostr": "e",
        "signature": sha1_signature([TOKEN, timestamp, "7"]),
    }
    assert client.get(CALLBACK_URL, signed, REMOTE_ADDR=ATTACKER).status_code == 429


def test_wechats_own_address_is_still_answered_while_a_forger_is_limited(
    client, fake_wechat, small_limits, station
):
    for _ in range(small_limits + 1):
        client.post(CALLBACK_URL, "<xml/>", content_type="text/xml", REMOTE_ADDR=ATTACKER)
    stranger = image_xml(from_user="oStranger00000000000000000Zz", media_id="M1")
    response = post_plain(client, stranger, token=TOKEN, REMOTE_ADDR="101.226.103.1")
    assert response.status_code == 200
    assert b"<Content>" in response.content  # the passive reply explaining how to register


def test_a_burst_from_wechat_within_the_real_limit_is_answered(client, fake_wechat):
    """A billboard at a fair: many followers' messages in a minute through one address."""
    statuses = set()
    for n in range(30):
        xml = image_xml(from_user=f"oFollower{n:020d}", media_id=f"M{n}")
        statuses.add(post_plain(client, xml, token=TOKEN, REMOTE_ADDR="101.226.103.1").status_code)
    assert statuses == {200}
