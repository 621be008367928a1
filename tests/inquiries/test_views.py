"""The resident's pages: help form, bad input, private case page, photo, registration link."""

import datetime
import io

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core.crypto import decrypt_bytes
from inquiries.constants import ErrorCode, Status
from inquiries.models import Inquiry, InquiryEntry
from tests.inquiries.factories import RegistrationFactory

pytestmark = pytest.mark.django_db

URL = "/s/shipai/help/"


def _data(**overrides):
    data = {
        "category": "healthcare",
        "subject": "Need an English-speaking doctor",
        "description": "My child has a fever. Which hospital nearby speaks English?",
        "urgency": "normal",
        "contact_name": "John Smith",
        "contact_method": "phone",
        "phone": "13800138000",
        "email": "",
        "wechat_id": "",
        "contact_time": "morning",
        "language": "en",
        "website": "",
    }
    data.update(overrides)
    return data


def _errors(response):
    form = response.context["form"]
    return {field: [e.code for e in errors.as_data()] for field, errors in form.errors.items()}


def test_help_url_opens_the_form_with_the_station_set(client, station):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["station"] == station
    assert 'name="category"' in response.text
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_unknown_station_is_404(client, db):
    assert client.get("/s/nowhere/help/").status_code == 404


def test_station_page_link_name_still_resolves():
    assert reverse("inquiries:help", kwargs={"code": "shipai"}) == URL


def test_form_always_says_it_is_not_an_emergency_service(client, station):
    page = client.get(URL).text
    assert "110" in page and "119" in page and "120" in page
    assert "not an emergency service" in page
    assert 'data-emergency="quiet"' in page


@pytest.mark.parametrize("field", ["category", "urgency"])
def test_safety_or_urgent_shows_the_emergency_numbers_before_and_after(client, station, field):
    value = {"category": "safety", "urgency": "urgent"}[field]
    before = client.get(URL, {"category": value} if field == "category" else {})
    if field == "category":
        assert 'data-emergency="prominent"' in before.text
    # A form sent back for correction keeps the notice prominent.
    again = client.post(URL, _data(**{field: value}, subject=""))
    assert again.status_code == 400
    assert 'data-emergency="prominent"' in again.text
    after = client.post(URL, _data(**{field: value}), follow=True)
    assert after.status_code == 200
    assert 'data-emergency="prominent"' in after.text
    assert "Emergency: police 110 · fire 119 · ambulance 120" in after.text
    assert "not an emergency service" in after.text


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"subject": ""}, "subject", "required"),
        ({"description": "   "}, "description", "required"),
        ({"subject": "x" * 10_000}, "subject", "max_length"),
        ({"description": "x" * 10_000}, "description", "max_length"),
        ({"description": "<script>alert('x')</script>"}, "description", ErrorCode.UNSAFE_TEXT),
        ({"subject": "Hi <img src=x onerror=alert(1)>"}, "subject", ErrorCode.UNSAFE_TEXT),
        ({"category": "aliens"}, "category", "invalid_choice"),
        ({"urgency": "yesterday"}, "urgency", "invalid_choice"),
        ({"language": "xx"}, "language", "invalid_choice"),
        ({"contact_method": "email", "email": ""}, "email", ErrorCode.CONTACT_MISSING),
        ({"email": "not-an-address", "contact_method": "email"}, "email", "invalid"),
        ({"phone": "12"}, "phone", "invalid"),
        ({"website": "http://spam.example"}, "website", ErrorCode.SPAM),
        ({"contact_name": "\x00"}, "contact_name", "null_characters_not_allowed"),
    ],
)
def test_bad_input_is_refused_with_a_coded_message_and_nothing_saved(
    client, station, overrides, field, code
):
    data = _data(**overrides)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert code in _errors(response).get(field, [])
    assert not Inquiry.objects.exists()
    # What was typed is kept (except what must not be echoed).
    if field not in ("subject", "website") and data["subject"]:
        assert data["subject"] in response.text


def test_bad_input_messages_are_translated(client, station):
    response = client.post(
        URL, _data(description="<script>x</script>"), HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    assert response.status_code == 400
    assert "请删除文字中的 HTML 标签" in response.text


def test_rate_limit_per_address(client, station, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "help-request": {"limit": 2, "window": 3600}}
    for _ in range(2):
        assert client.post(URL, _data()).status_code == 302
    blocked = client.post(URL, _data())
    assert blocked.status_code == 429
    assert Inquiry.objects.count() == 2
    other = client.post(URL, _data(), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photo_is_re_encoded_kept_private_and_shown_only_through_the_link(client, station):
    upload = SimpleUploadedFile("me.jpg", _jpeg_with_gps(), content_type="image/jpeg")
    response = client.post(URL, {**_data(), "photo": upload})
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.photo.name.startswith("inquiries/")
    assert "me.jpg" not in inquiry.photo.name
    with default_storage.open(inquiry.photo.name) as handle:
        stored = handle.read()
    assert not stored.startswith(b"\xff\xd8")  # encrypted at rest, not a JPEG on disk
    clean = decrypt_bytes(stored)
    assert b"SecretCam" not in clean
    case_path = response["Location"].split("?")[0]
    photo = client.get(case_path + "photo/")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert photo.content == clean
    assert client.get("/h/" + "A" * 43 + "/photo/").status_code == 404


def test_a_file_that_is_not_an_image_is_refused(client, station):
    upload = SimpleUploadedFile("x.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    response = client.post(URL, {**_data(), "photo": upload})
    assert response.status_code == 400
    assert "photo" in _errors(response)
    assert not Inquiry.objects.exists()


def test_registration_link_prefills_contact_and_links_the_case(client, station):
    registration = RegistrationFactory(station=station)
    resident = registration.resident
    page = client.get(URL, {"r": registration.raw_token})
    assert page.status_code == 200
    assert resident.email in page.text
    assert page.context["linked"]
    response = client.post(
        URL,
        _data(
            r=registration.raw_token,
            contact_method="email",
            email=resident.email,
            contact_name=resident.full_name,
        ),
    )
    assert response.status_code == 302
    assert Inquiry.objects.get().resident == resident


def test_a_forged_registration_token_links_nobody(client, station):
    RegistrationFactory(station=station)
    response = client.post(URL, _data(r="A" * 43))
    assert response.status_code == 302
    assert Inquiry.objects.get().resident is None


def test_case_page_is_private_and_unknown_tokens_are_404(client, station):
    assert client.get("/h/" + "A" * 43 + "/").status_code == 404
    assert client.get("/h/not-a-token/").status_code == 404
    response = client.post(URL, _data())
    page = client.get(response["Location"])
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]


def test_resident_reply_bad_input_saves_nothing(client, station):
    case_path = client.post(URL, _data())["Location"].split("?")[0]
    for body in ("", "x" * 10_000, "<script>alert(1)</script>"):
        assert client.post(case_path, {"body": body}).status_code == 400
    assert not InquiryEntry.objects.filter(kind="reply").exists()


def test_reply_to_a_closed_case_after_grace_period_is_gone(client, station, settings):
    case_path = client.post(URL, _data())["Location"].split("?")[0]
    Inquiry.objects.update(status=Status.CLOSED, closed_at=timezone.now())
    later = timezone.now() + datetime.timedelta(days=settings.INQUIRY_REPLY_GRACE_DAYS + 1)
    with time_machine.travel(later, tick=False):
        page = client.get(case_path)
        assert "This case is closed" in page.text
        response = client.post(case_path, {"body": "Hello?"})
    assert response.status_code == 410
    assert "This case is closed" in response.text
    assert not InquiryEntry.objects.filter(kind="reply").exists()
    # Within the grace period the reply reopens the case.
    assert client.post(case_path, {"body": "Hello?"}).status_code == 302
    assert Inquiry.objects.get().status == Status.REOPENED


def test_unknown_feedback_link_is_404(client, db):
    assert client.get("/f/" + "B" * 43 + "/").status_code == 404


def test_inactive_station_takes_no_requests(client, station):
    station.is_active = False
    station.save()
    response = client.get(URL)
    assert response.status_code == 410
    assert "This station is closed" in response.text
    assert client.post(URL, _data()).status_code == 410
    assert not Inquiry.objects.exists()
