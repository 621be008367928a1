"""
The arrival record sent as a WeChat photo, on a 360 px phone in WeChat's in-app browser: a
bound resident sends the photo of their entry stamp (a callback signed as WeChat signs it,
posted over HTTP to the live server; the fake WeChat serves the media), opens the link the
reply carries, sees their photo, confirms the dates and the address, and the return is
recorded. In English and in Arabic (right to left).
"""

import datetime
import re
import urllib.parse
import urllib.request

import pytest
from django.utils import timezone

from registration.constants import AmendmentKind, EndReason, RegistrationStatus
from registration.models import Registration
from tests.browser.conftest import PHONE, has_horizontal_scroll, screenshot
from tests.browser.steps import assert_accessible, click_and_wait, fill_form
from tests.registration.factories import jpeg_bytes, registration_with_token
from tests.wechat.callbacks import CALLBACK_URL, image_xml, signed_query
from tests.wechat.conftest import fake_wechat  # noqa: F401  (the fake WeChat fixture)
from wechat.constants import ArrivalPhotoStatus
from wechat.models import ArrivalPhoto
from wechat.services import binding_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPENID = "oBrowserArrival0123456789abc"
TOKEN = "callback-token"  # tests/wechat/conftest.py's WECHAT_TOKEN


def _send_photo_as_wechat(live_server) -> str:
    """Post an image message as WeChat's servers do; return the reply's text."""
    query = signed_query(token=TOKEN)
    url = (
        live_server.url
        + CALLBACK_URL
        + "?"
        + urllib.parse.urlencode({key: query[key] for key in ("signature", "timestamp", "nonce")})
    )
    xml = image_xml(from_user=OPENID, media_id="MEDIA-STAMP").encode()
    request = urllib.request.Request(url, data=xml, headers={"Content-Type": "text/xml"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        body = response.read().decode()
    return body[body.index("<Content>") + len("<Content>") : body.index("</Content>")]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_photo_sent_in_wechat_is_confirmed_on_a_phone(
    open_page,
    live_server,
    station,
    fake_wechat,  # noqa: F811  (the fixture imported above)
    settings,
    language,
):
    assert "MicroMessenger" in PHONE["user_agent"]
    settings.SITE_URL = live_server.url  # the reply's link is built on SITE_URL
    fake_wechat.media["MEDIA-STAMP"] = (jpeg_bytes(size=(1200, 900)), "image/jpeg")
    today = timezone.localdate()
    old, _token = registration_with_token(
        station=station,
        status=RegistrationStatus.REGISTERED,
        entry_date=today - datetime.timedelta(days=60),
        arrival_at=timezone.now() - datetime.timedelta(days=59),
    )
    binding_create(resident=old.resident, openid=OPENID, language=language)

    reply = _send_photo_as_wechat(live_server)
    links = re.findall(re.escape(live_server.url) + r"/wechat/back/[A-Za-z0-9_-]+/", reply)
    assert len(links) == 1, reply
    assert ArrivalPhoto.objects.get().status == ArrivalPhotoStatus.READY  # downloaded, kept

    page, traffic = open_page(language)
    page.goto(links[0])
    if language == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert "Register my return" not in page.locator("main").inner_text()
    thumb = page.locator("main img.linli-thumb")
    assert thumb.is_visible()
    assert thumb.evaluate("i => i.complete && i.naturalWidth > 0")  # the photo sent in WeChat
    assert old.reference in page.locator("main").inner_text()
    assert not has_horizontal_scroll(page)
    assert_accessible(page)
    screenshot(page, f"wechat-arrival-confirm-{language}")

    fill_form(
        page,
        {
            "entry_date": (today - datetime.timedelta(days=1)).isoformat(),
            "arrival_at": (timezone.localtime() - datetime.timedelta(hours=2)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "address_unchanged": "on",
        },
        scope="main form",
    )
    click_and_wait(page, page.locator("main form button[type=submit]"))
    new = Registration.objects.get(previous=old)
    assert new.reference in page.locator("main").inner_text()
    assert page.locator("main [role=status]").is_visible()
    old.refresh_from_db()
    assert (old.status, old.end_reason) == (RegistrationStatus.ENDED, EndReason.REENTERED)
    assert new.amendments.first().kind == AmendmentKind.REENTRY
    assert new.entry_date == today - datetime.timedelta(days=1)
    assert new.documents.filter(kind="entry_stamp").count() == 1
    assert ArrivalPhoto.objects.get().status == ArrivalPhotoStatus.CONFIRMED
    assert OPENID not in page.content()
    assert not has_horizontal_scroll(page)
    assert_accessible(page)
    screenshot(page, f"wechat-arrival-done-{language}")
    assert traffic.blocked == []
