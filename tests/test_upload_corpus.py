"""
The malicious upload corpus, through the real public forms (registration and help request):
every file gets a 4xx with a translated message next to its field, or is sanitised; none
gives a 5xx; nothing unsanitised is stored.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from core.crypto import decrypt_bytes
from inquiries.models import Inquiry
from inquiries.selectors import inquiry_photo_bytes
from registration.models import Document, Registration
from tests.core.test_images import _gps_exif, _png_header_only
from tests.registration.factories import form_data, jpeg_bytes, photos, png_bytes

pytestmark = pytest.mark.django_db

CORPUS = {
    "decompression-bomb": ("bomb.png", "image/png", _png_header_only(30_000, 30_000)),
    "png-html-polyglot": (
        "polyglot.png",
        "image/png",
        png_bytes() + b"<html><script>alert(document.cookie)</script></html>",
    ),
    "eps": ("photo.eps", "application/postscript", b"%!PS-Adobe-3.0 EPSF-3.0\n%%EOF\n"),
    "svg-with-script": (
        "photo.svg",
        "image/svg+xml",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ),
    "pdf-renamed-jpg": ("scan.jpg", "image/jpeg", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF"),
    "html-renamed-jpg": ("photo.jpg", "image/jpeg", b"<!doctype html><script>x()</script>"),
    "truncated-jpeg": ("cut.jpg", "image/jpeg", jpeg_bytes(size=(1200, 900))[:700]),
    "30-megabytes": ("huge.jpg", "image/jpeg", b"\xff\xd8\xff" + b"\x00" * (30 * 1024 * 1024)),
    "exif-with-gps": ("gps.jpg", "image/jpeg", jpeg_bytes(exif=_gps_exif())),
}
SANITISED = {"png-html-polyglot", "exif-with-gps"}


def _upload(name, content_type, data):
    return SimpleUploadedFile(name, data, content_type)


def _stored_bytes(document: Document) -> bytes:
    with document.file.open("rb") as handle:
        return decrypt_bytes(handle.read())


@pytest.mark.parametrize("item", sorted(CORPUS))
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_registration_form_refuses_or_sanitises(client, station, item, language):
    name, content_type, data = CORPUS[item]
    response = client.post(
        reverse("registration:register", args=[station.code]),
        {**form_data(), **photos(), "passport_page": _upload(name, content_type, data)},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code < 500
    assert not Registration.objects.exists()
    stored = Document.objects.filter(kind="passport_page")
    if item in SANITISED:
        assert response.status_code == 200  # on to the review step
        (document,) = stored
        clean = _stored_bytes(document)
        assert b"<script" not in clean and b"<html" not in clean
        image = Image.open(io.BytesIO(clean))
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info and "icc_profile" not in image.info
    else:
        assert 400 <= response.status_code < 500
        assert not stored.exists()
        errors = response.context["form"].errors.as_data()["passport_page"]
        message = str(errors[0].message % (errors[0].params or {}))
        if language == "zh-hans":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_a_hundred_and_one_files_in_one_request_is_a_translated_400(client, station):
    files = {f"file{i}": _upload(f"{i}.jpg", "image/jpeg", b"x") for i in range(101)}
    response = client.post(
        reverse("registration:register", args=[station.code]),
        {**form_data(), **files},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert response.status_code == 400
    assert "请求有误" in response.text
    assert not Registration.objects.exists() and not Document.objects.exists()


@pytest.mark.parametrize("item", sorted(CORPUS))
def test_help_form_refuses_or_sanitises(client, station, item):
    name, content_type, data = CORPUS[item]
    response = client.post(
        reverse("inquiries:help", args=[station.code]),
        {
            "category": "housing",
            "subject": "Deposit",
            "description": "My landlord keeps my deposit.",
            "urgency": "normal",
            "contact_name": "Amina",
            "contact_method": "email",
            "email": "amina@example.org",
            "contact_time": "any",
            "language": "en",
            "photo": _upload(name, content_type, data),
        },
    )
    assert response.status_code < 500
    if item in SANITISED:
        assert response.status_code == 302
        inquiry = Inquiry.objects.get()
        with inquiry.photo.open("rb") as handle:
            assert handle.read(4) != b"\xff\xd8\xff\xe0"  # stored encrypted, not as JPEG
        clean = inquiry_photo_bytes(inquiry=inquiry)
        assert b"<script" not in clean
        assert not Image.open(io.BytesIO(clean)).getexif()
    else:
        assert 400 <= response.status_code < 500
        assert not Inquiry.objects.exists()
