"""
Messages from WeChat's servers at /wechat/callback/: signed, encrypted and posted as WeChat
does (tests/wechat/callbacks.py), the media served by the fake WeChat over real HTTP.
"""

import datetime
import io
import logging
import time

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from registration.constants import AmendmentKind, EndReason, RegistrationStatus
from registration.documents import document_file_read
from registration.models import Registration
from tests.registration.factories import jpeg_bytes, registration_with_token
from tests.registration.test_returning import _reentry_data
from tests.wechat.callbacks import (
    CALLBACK_URL,
    image_xml,
    message_xml,
    post_plain,
    post_safe,
    safe_mode_body,
    sha1_signature,
    text_xml,
    wechat_decrypt,
    wechat_encrypt,
)
from wechat.constants import ArrivalPhotoStatus, ArrivalRefusal
from wechat.models import ArrivalPhoto
from wechat.services import binding_create

pytestmark = pytest.mark.django_db

OPENID = "oBoundResident0000000000001a"
STRANGER = "oStranger00000000000000000Zz"
TOKEN = "callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters


def _return_answers() -> dict:
    """The return form's answers as on the private link, the entry stamp being WeChat's photo."""
    data = _reentry_data()
    del data["entry_stamp"]
    return data


def _exif_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera maker: must not survive
    return jpeg_bytes(size=(1200, 900), exif=exif)


@pytest.fixture
def wx(fake_wechat, settings):
    fake_wechat.media["MEDIA-STAMP"] = (_exif_jpeg(), "image/jpeg")
    return fake_wechat


@pytest.fixture
def old(station):
    today = timezone.localdate()
    registration, token = registration_with_token(
        station=station,
        status=RegistrationStatus.REGISTERED,
        entry_date=today - datetime.timedelta(days=60),
        arrival_at=timezone.now() - datetime.timedelta(days=59),
    )
    binding_create(resident=registration.resident, openid=OPENID, language="ko")
    return registration, token


def _media_requests(server) -> int:
    return sum(1 for _method, path in server.requests if path == "/cgi-bin/media/get")


def _reply_content(response) -> str:
    assert response.status_code == 200
    body = response.content.decode()
    start, end = body.index("<Content>") + len("<Content>"), body.index("</Content>")
    return body[start:end]


def _link_in(text: str) -> str:
    marker = "/wechat/back/"
    start = text.index(marker)
    return text[start:].split()[0].split("<")[0]


# -- server verification -----------------------------------------------------------------


def test_server_verification_answers_echostr_only_when_signed(client, wx):
    timestamp, nonce = str(int(time.time())), "12345"
    query = {"timestamp": timestamp, "nonce": nonce, "echostr": "echo-4242"}
    signed = {**query, "signature": sha1_signature([TOKEN, timestamp, nonce])}
    response = client.get(CALLBACK_URL, signed)
    assert response.status_code == 200 and response.content == b"echo-4242"
    forged = {**query, "nonce": "999", "signature": sha1_signature(["guess", timestamp, "999"])}
    response = client.get(CALLBACK_URL, forged)
    assert response.status_code == 403 and b"echo-4242" not in response.content


def test_callback_is_off_until_wechat_is_configured(client, settings):
    settings.WECHAT_APP_ID = ""
    assert client.get(CALLBACK_URL).status_code == 404


# -- a bound resident's photo ----------------------------------------------------------


def test_bound_resident_photo_starts_a_reentry_with_it(
    client, wx, old, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_plain(
            client, image_xml(from_user=OPENID, media_id="MEDIA-STAMP"), token=TOKEN
        )
    content = _reply_content(response)
    assert "사진" in content  # in the resident's language (Korean)
    assert "/wechat/back/" in content
    photo = ArrivalPhoto.objects.get()
    assert photo.status == ArrivalPhotoStatus.READY and photo.registration == old[0]
    stamp = photo.attempt.documents.get(kind="entry_stamp")
    clean = Image.open(io.BytesIO(document_file_read(name=stamp.file.name)))
    assert clean.format == "JPEG" and 0x010F not in clean.getexif()  # EXIF stripped
    assert b"PhoneMaker" not in document_file_read(name=stamp.file.name)
    assert OPENID not in caplog.text and OPENID[:12] not in caplog.text


def test_resident_confirms_on_the_linked_page_and_the_reentry_is_recorded(
    client, wx, old, django_capture_on_commit_callbacks
):
    registration, private_token = old
    with django_capture_on_commit_callbacks(execute=True):
        response = post_plain(
            client, image_xml(from_user=OPENID, media_id="MEDIA-STAMP"), token=TOKEN
        )
    link = _link_in(_reply_content(response))
    page = client.get(link)
    assert page.status_code == 200
    assert "entry_stamp" in page.context["photos"]
    photo_url = (
        reverse("wechat:arrival", args=[link.rstrip("/").split("/")[-1]]) + "photo/entry_stamp/"
    )
    assert client.get(photo_url).status_code == 200
    data = _return_answers()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(link, data)
    assert done.status_code == 200, done.context["form"].errors
    new = Registration.objects.get(previous=registration)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.ENDED
    assert registration.end_reason == EndReason.REENTERED
    assert new.amendments.first().kind == AmendmentKind.REENTRY
    assert new.entry_date == timezone.localdate() - datetime.timedelta(days=1)
    assert new.documents.filter(kind="entry_stamp").count() == 1
    # The private link the resident holds moved with them, as through the link itself.
    private = client.get(reverse("registration:private", args=[private_token]))
    assert private.status_code == 200 and private.context["registration"] == new
    assert ArrivalPhoto.objects.get().status == ArrivalPhotoStatus.CONFIRMED
    assert client.get(link).status_code == 404  # the link does its one job once


def test_arrival_link_is_not_guessable_and_expires(
    client, wx, old, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_plain(
            client, image_xml(from_user=OPENID, media_id="MEDIA-STAMP"), token=TOKEN
        )
    link = _link_in(_reply_content(response))
    assert client.get("/wechat/back/" + "A" * 43 + "/").status_code == 404
    assert client.get(reverse("wechat:arrival", args=["1"])).status_code == 404
    ArrivalPhoto.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert client.get(link).status_code == 404


def test_the_same_message_sent_again_by_wechat_is_recorded_once(
    client, wx, old, django_capture_on_commit_callbacks
):
    xml = image_xml(from_user=OPENID, media_id="MEDIA-STAMP", msg_id="6000000000000000001")
    with django_capture_on_commit_callbacks(execute=True):
        first = post_plain(client, xml, token=TOKEN)
        second = post_plain(client, xml, token=TOKEN)  # WeChat's retry: new nonce, same MsgId
    assert ArrivalPhoto.objects.count() == 1
    assert _media_requests(wx) == 1
    # The retry's answer is the one WeChat shows: its link works, the first one no longer.
    assert client.get(_link_in(_reply_content(second))).status_code == 200
    assert client.get(_link_in(_reply_content(first))).status_code == 404


def test_non_image_media_is_refused_told_and_not_kept(
    client, wx, old, django_capture_on_commit_callbacks
):
    wx.media["MEDIA-PDF"] = (b"%PDF-1.4 not a photo" * 50, "image/jpeg")  # a lying type
    with django_capture_on_commit_callbacks(execute=True):
        response = post_plain(
            client, image_xml(from_user=OPENID, media_id="MEDIA-PDF"), token=TOKEN
        )
    assert response.status_code == 200
    photo = ArrivalPhoto.objects.get()
    assert photo.status == ArrivalPhotoStatus.REFUSED
    assert photo.refusal == ArrivalRefusal.NOT_AN_IMAGE and photo.attempt is None
    from registration.models import Document

    assert not Document.objects.exists()
    # The next message the resident sends is answered with the reason first, once.
    nxt = _reply_content(post_plain(client, text_xml(from_user=OPENID, content="hi"), token=TOKEN))
    with_reason = _reply_content(
        post_plain(client, text_xml(from_user=OPENID, content="?"), token=TOKEN)
    )
    assert nxt != with_reason
    # The page of the refused photo asks for the photo there instead.
    page = client.get(_link_in(_reply_content(response)))
    assert page.status_code == 200 and page.context["refusal"]


def test_oversized_media_is_refused_without_reading_it_all(
    client, wx, old, settings, django_capture_on_commit_callbacks
):
    settings.WECHAT_MEDIA_MAX_BYTES = 50_000
    wx.media["MEDIA-BIG"] = (jpeg_bytes(size=(3000, 3000), quality=100), "image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        post_plain(client, image_xml(from_user=OPENID, media_id="MEDIA-BIG"), token=TOKEN)
    photo = ArrivalPhoto.objects.get()
    assert photo.status == ArrivalPhotoStatus.REFUSED and photo.refusal == ArrivalRefusal.TOO_LARGE


def test_voice_message_gets_a_reply_and_nothing_is_downloaded(client, wx, old):
    xml = message_xml(
        from_user=OPENID, msg_type="voice", MediaId="MEDIA-STAMP", Format="amr", MsgId="77"
    )
    assert _reply_content(post_plain(client, xml, token=TOKEN))
    assert _media_requests(wx) == 0 and not ArrivalPhoto.objects.exists()


def test_wechat_unreachable_the_download_waits_and_nothing_is_lost(
    client, wx, old, caplog, django_capture_on_commit_callbacks, settings
):
    from wechat import arrivals
    from wechat.client import WeChatUnreachable

    settings.WECHAT_FETCH_MAX_RETRIES = 1
    wx.stop()
    caplog.set_level(logging.WARNING)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_plain(
            client, image_xml(from_user=OPENID, media_id="MEDIA-STAMP"), token=TOKEN
        )
    assert response.status_code == 200  # the answer never waits for WeChat's media store
    photo = ArrivalPhoto.objects.get()
    with pytest.raises(WeChatUnreachable):
        arrivals.arrival_photo_fetch(photo_id=photo.pk)
    photo.refresh_from_db()
    assert photo.status == ArrivalPhotoStatus.RECEIVED  # kept, to be tried again
    wx.start()
    for callback in callbacks:
        callback()  # the queued task, once WeChat answers again
    photo.refresh_from_db()
    assert photo.status == ArrivalPhotoStatus.READY


def test_wechat_unreachable_for_long_the_task_gives_up_and_says_so(
    client, wx, old, caplog, django_capture_on_commit_callbacks, settings
):
    from wechat.tasks import arrival_photo_fetch

    settings.WECHAT_FETCH_MAX_RETRIES = 2
    wx.stop()
    caplog.set_level(logging.WARNING)
    with django_capture_on_commit_callbacks(execute=True):
        post_plain(client, image_xml(from_user=OPENID, media_id="MEDIA-STAMP"), token=TOKEN)
    assert "WeChat unreachable (URLError); try 2 again in 60 s" in caplog.text
    photo = ArrivalPhoto.objects.get()
    assert photo.status == ArrivalPhotoStatus.RECEIVED  # waiting for the retry
    arrival_photo_fetch.apply(args=[photo.pk], retries=2)  # the last try allowed
    photo.refresh_from_db()
    assert photo.status == ArrivalPhotoStatus.REFUSED
    assert photo.refusal == ArrivalRefusal.UNREACHABLE
    assert "WeChat unreachable after 3 tries" in caplog.text
    assert OPENID not in caplog.text
    # The resident hears it in their next reply.
    wx.start()
    reply = _reply_content(post_plain(client, text_xml(from_user=OPENID, content="?"), token=TOKEN))
    assert "위챗" in reply


def test_photo_from_a_resident_with_no_active_registration_is_not_kept(client, wx, old):
    Registration.objects.update(status=RegistrationStatus.ENDED)
    assert _reply_content(
        post_plain(client, image_xml(from_user=OPENID, media_id="MEDIA-STAMP"), token=TOKEN)
    )
    assert _media_requests(wx) == 0 and not ArrivalPhoto.objects.exists()


# -- strangers -----------------------------------------------------------------------------


def test_unbound_sender_photo_is_never_downloaded_and_nothing_disclosed(client, wx, old):
    registration, _token = old
    response = post_plain(
        client, image_xml(from_user=STRANGER, media_id="MEDIA-STAMP"), token=TOKEN
    )
    content = _reply_content(response)
    assert "WeChat" in content and "微信" in content  # English and Chinese
    assert _media_requests(wx) == 0
    assert not ArrivalPhoto.objects.exists()
    for secret in (registration.reference, registration.resident.surname, "/wechat/back/"):
        assert secret not in content


def test_subscribe_and_text_get_helpful_replies(client, wx, old):
    subscribe = message_xml(from_user=STRANGER, msg_type="event", Event="subscribe")
    assert "微信" in _reply_content(post_plain(client, subscribe, token=TOKEN))
    assert _reply_content(
        post_plain(client, text_xml(from_user=OPENID, content="hello"), token=TOKEN)
    )
    unsubscribe = message_xml(from_user=OPENID, msg_type="event", Event="unsubscribe")
    response = post_plain(client, unsubscribe, token=TOKEN)
    assert response.status_code == 200 and response.content == b"success"


# -- forged, replayed, garbled -----------------------------------------------------------


def _refused(response, status, caplog, code):
    assert response.status_code == status
    assert f"WeChat callback refused ({code})" in caplog.text
    assert not ArrivalPhoto.objects.exists()


def test_wrong_signature_is_refused_and_nothing_stored(client, wx, old, caplog):
    xml = image_xml(from_user=OPENID, media_id="MEDIA-STAMP")
    response = post_plain(client, xml, token="not-the-token")
    _refused(response, 403, caplog, "bad_signature")
    assert _media_requests(wx) == 0
    assert OPENID not in caplog.text


def test_replayed_callback_is_refused(client, wx, old, caplog):
    xml = text_xml(from_user=OPENID, content="hello")
    now = int(time.time())
    assert post_plain(client, xml, token=TOKEN, timestamp=now, nonce="424242").status_code == 200
    response = post_plain(client, xml, token=TOKEN, timestamp=now, nonce="424242")
    _refused(response, 403, caplog, "replayed")


def test_stale_timestamp_is_refused(client, wx, old, caplog):
    xml = image_xml(from_user=OPENID, media_id="MEDIA-STAMP")
    response = post_plain(client, xml, token=TOKEN, timestamp=int(time.time()) - 3600)
    _refused(response, 403, caplog, "stale_timestamp")


def test_oversized_body_is_refused_with_413(client, wx, old, caplog):
    xml = text_xml(from_user=OPENID, content="x" * (70 * 1024))
    _refused(post_plain(client, xml, token=TOKEN), 413, caplog, "too_large")


def test_billion_laughs_is_refused_without_expanding(client, wx, old, caplog):
    lol = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + "]><xml><ToUserName>a</ToUserName><FromUserName>"
        + OPENID
        + "</FromUserName><MsgType>text</MsgType><Content>&lol9;</Content></xml>"
    )
    _refused(post_plain(client, lol, token=TOKEN), 400, caplog, "bad_xml")


def test_garbled_xml_is_refused(client, wx, old, caplog):
    _refused(post_plain(client, "<xml><Msg", token=TOKEN), 400, caplog, "bad_xml")


# -- safe mode --------------------------------------------------------------------------


@pytest.fixture
def safe(wx, settings):
    settings.WECHAT_ENCODING_AES_KEY = AES_KEY
    return {"token": TOKEN, "encoding_aes_key": AES_KEY, "app_id": wx.app_id}


def test_safe_mode_callback_is_decrypted_and_the_reply_encrypted(
    client, wx, old, safe, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_safe(client, image_xml(from_user=OPENID, media_id="MEDIA-STAMP"), **safe)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<Content>" not in body and "<Encrypt>" in body
    encrypted = body.split("<Encrypt>")[1].split("</Encrypt>")[0]
    timestamp = body.split("<TimeStamp>")[1].split("</TimeStamp>")[0]
    nonce = body.split("<Nonce>")[1].split("</Nonce>")[0]
    signature = body.split("<MsgSignature>")[1].split("</MsgSignature>")[0]
    assert signature == sha1_signature([TOKEN, timestamp, nonce, encrypted])
    xml, app_id = wechat_decrypt(encrypted, encoding_aes_key=AES_KEY)
    assert app_id == wx.app_id and b"/wechat/back/" in xml
    assert ArrivalPhoto.objects.get().status == ArrivalPhotoStatus.READY


def test_safe_mode_wrong_appid_inside_the_ciphertext_is_refused(client, wx, old, safe, caplog):
    xml = image_xml(from_user=OPENID, media_id="MEDIA-STAMP")
    response = post_safe(client, xml, **{**safe, "app_id": "wx-another-account"})
    _refused(response, 403, caplog, "wrong_appid")
    assert _media_requests(wx) == 0


def test_safe_mode_refuses_a_plaintext_downgrade(client, wx, old, safe, caplog):
    xml = image_xml(from_user=OPENID, media_id="MEDIA-STAMP")
    _refused(post_plain(client, xml, token=TOKEN), 403, caplog, "plaintext_in_safe_mode")


def test_safe_mode_wrong_msg_signature_is_refused(client, wx, old, safe, caplog):
    url, body = safe_mode_body(text_xml(from_user=OPENID, content="hi"), **safe)
    tampered = body.replace(b"<![CDATA[", b"<![CDATA[A", 1).replace(b"gh_linlitest", b"gh_x", 1)
    url = url.replace("msg_signature=", "msg_signature=0")
    response = client.generic("POST", url, tampered, content_type="text/xml")
    _refused(response, 403, caplog, "bad_signature")


def test_safe_mode_garbled_ciphertext_is_refused(client, wx, old, safe, caplog):
    timestamp, nonce = str(int(time.time())), "5151"
    encrypted = (
        wechat_encrypt("<xml/>", encoding_aes_key=AES_KEY, app_id=wx.app_id)[:-8] + "!!!!!!!="
    )
    signature = sha1_signature([TOKEN, timestamp, nonce, encrypted])
    url = f"{CALLBACK_URL}?timestamp={timestamp}&nonce={nonce}&encrypt_type=aes&msg_signature={signature}"
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
    response = client.generic("POST", url, body, content_type="text/xml")
    _refused(response, 400, caplog, "bad_base64")


def test_a_download_whose_task_was_lost_is_queued_again_by_the_sweep(
    client, wx, old, django_capture_on_commit_callbacks
):
    from wechat.arrivals import arrival_photos_sweep

    with django_capture_on_commit_callbacks(execute=False):  # the broker never got it
        post_plain(client, image_xml(from_user=OPENID, media_id="MEDIA-STAMP"), token=TOKEN)
    photo = ArrivalPhoto.objects.get()
    assert arrival_photos_sweep() == 0  # too early: a retry may still be on its way
    ArrivalPhoto.objects.update(created_at=timezone.now() - datetime.timedelta(hours=3))
    assert arrival_photos_sweep() == 1
    photo.refresh_from_db()
    assert photo.status == ArrivalPhotoStatus.READY
    assert arrival_photos_sweep() == 0


# -- cost: the answer within WeChat's 5 seconds does a fixed few queries ----------------


def test_callbacks_cost_a_fixed_few_queries(
    client, wx, old, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_max_num_queries(0):
        post_plain(client, image_xml(from_user=OPENID, media_id="MEDIA-STAMP"), token="forged")
    with django_assert_max_num_queries(1):  # the binding lookup, nothing else
        post_plain(client, image_xml(from_user=STRANGER, media_id="MEDIA-STAMP"), token=TOKEN)
    with django_capture_on_commit_callbacks(execute=False):
        for n in range(3):  # the same cost for every photo
            # Binding, untold refusals, registration, the message's row and its insert: five
            # queries, plus the savepoints of the test's own transaction.
            with django_assert_max_num_queries(11):
                xml = image_xml(from_user=OPENID, media_id="MEDIA-STAMP", msg_id=f"9{n}")
                assert post_plain(client, xml, token=TOKEN).status_code == 200


def test_the_openid_in_wechats_callback_url_never_reaches_a_log():
    from core.logs import redact_secrets

    path = f"/wechat/callback/?signature=ab12&timestamp=1&nonce=2&openid={OPENID.lower()[:10]}"
    assert OPENID.lower()[:10] not in redact_secrets(path)
    assert "timestamp=1" in redact_secrets(path)


def test_after_a_refused_photo_the_resident_adds_it_on_the_page(
    client, wx, old, django_capture_on_commit_callbacks
):
    from tests.registration.factories import photo_upload

    registration, _token = old
    wx.media["MEDIA-BAD"] = (b"GIF89a not really", "image/gif")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_plain(
            client, image_xml(from_user=OPENID, media_id="MEDIA-BAD"), token=TOKEN
        )
    link = _link_in(_reply_content(response))
    data = _return_answers()
    missing = client.post(link, data)
    assert missing.status_code == 400
    assert "photo_required" in [
        e.code for e in missing.context["form"].errors.as_data()["entry_stamp"]
    ]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(link, {**data, "entry_stamp": photo_upload("stamp.jpg")})
    assert done.status_code == 200
    new = Registration.objects.get(previous=registration)
    assert new.documents.filter(kind="entry_stamp").count() == 1


def test_safe_mode_entity_bomb_inside_the_ciphertext_is_refused(client, wx, old, safe, caplog):
    bomb = (
        '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f"<xml><FromUserName>{OPENID}</FromUserName><MsgType>text</MsgType>"
        "<Content>&b;</Content></xml>"
    )
    _refused(post_safe(client, bomb, **safe), 400, caplog, "bad_xml")
