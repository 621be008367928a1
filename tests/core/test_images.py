"""The image pipeline: only real photos pass, re-encoded, oriented, without any metadata."""

import io
import os
import struct
import subprocess
import sys
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.images import image_sanitize
from tests.registration.factories import jpeg_bytes, png_bytes


def _upload(data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type)


def _code(data: bytes, **kwargs) -> str:
    with pytest.raises(ValidationError) as raised:
        image_sanitize(_upload(data, **kwargs))
    return raised.value.code


def _open(content) -> Image.Image:
    image = Image.open(io.BytesIO(content.read()))
    content.seek(0)
    return image


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` pixels but holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (23.0, 7.0, 51.0)
    gps[3] = "E"
    gps[4] = (113.0, 20.0, 4.0)
    return exif


def test_jpeg_with_gps_exif_comes_out_without_any_metadata():
    original = jpeg_bytes(exif=_gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    clean = image_sanitize(_upload(original))
    data = clean.read()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert "exif" not in image.info and "icc_profile" not in image.info
    assert b"PhoneMaker" not in data and b"GPS" not in data
    assert clean.name.endswith(".jpg") and "photo" not in clean.name


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    clean = image_sanitize(_upload(jpeg_bytes(size=(200, 100), exif=exif)))
    assert _open(clean).size == (100, 200)


def test_very_large_photo_is_downscaled(settings):
    clean = image_sanitize(_upload(jpeg_bytes(size=(5000, 3000))))
    assert max(_open(clean).size) == settings.REGISTRATION_IMAGE_MAX_SIDE


def test_png_and_webp_are_accepted_and_become_jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "red").save(buffer, "WEBP")
    for data in (png_bytes(), png_bytes(mode="RGBA"), buffer.getvalue()):
        assert _open(image_sanitize(_upload(data, name="x.png"))).format == "JPEG"


def test_heic_from_an_iphone_is_accepted_without_its_metadata():
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(buffer, "HEIF", exif=_gps_exif().tobytes())
    clean = image_sanitize(
        _upload(buffer.getvalue(), name="IMG_0001.HEIC", content_type="image/heic")
    )
    image = _open(clean)
    assert image.format == "JPEG" and image.size == (640, 480)
    assert not image.getexif()


def test_decompression_bomb_png_is_rejected_without_decoding(monkeypatch):
    from PIL import ImageFile

    def never_decode(self):
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never_decode)
    bomb = _png_header_only(30_000, 30_000)
    assert len(bomb) < 10_000
    assert _code(bomb, name="bomb.png", content_type="image/png") == "image_too_many_pixels"


def test_image_over_our_pixel_limit_but_under_pillows_is_rejected(settings):
    settings.REGISTRATION_IMAGE_MAX_PIXELS = 1_000_000
    assert _code(_png_header_only(2000, 1000)) == "image_too_many_pixels"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF", "scan.jpg"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "photo.svg",
        ),
        (b"<!doctype html><html><script>alert(1)</script></html>", "photo.jpg"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "photo.eps"),
        (b"GIF89a" + b"\x00" * 40, "photo.gif"),
    ],
    ids=["pdf-renamed-jpg", "svg", "html-renamed-jpg", "eps", "gif"],
)
def test_files_that_are_not_allowed_images_are_rejected(data, name):
    assert _code(data, name=name) == "image_invalid"


def test_truncated_jpeg_is_rejected():
    data = jpeg_bytes(size=(1200, 900))
    assert _code(data[: len(data) // 3]) == "image_invalid"


def test_png_with_html_appended_is_re_encoded():
    polyglot = png_bytes() + b"<html><script>alert(document.cookie)</script></html>"
    clean = image_sanitize(_upload(polyglot, name="x.png", content_type="image/png"))
    data = clean.read()
    assert data.startswith(b"\xff\xd8") and b"<script" not in data and b"<html" not in data


def test_file_over_ten_megabytes_is_rejected_before_opening():
    assert _code(b"\xff\xd8" + b"\x00" * (10 * 1024 * 1024 + 1)) == "image_too_large"


def test_empty_file_is_rejected():
    assert _code(b"") == "image_empty"


def test_messages_are_translated():
    from django.utils import translation

    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as raised:
            image_sanitize(_upload(b"not an image"))
        message = raised.value.messages[0]
    assert "JPEG" in message and "图片" in message


_PEAK_OF_FOUR_THREADS = """
import threading
from bench.upload_memory import peak_kb, peak_reset, png_at_limit
from django.core.files.uploadedfile import SimpleUploadedFile
from core.images import image_sanitize

png = png_at_limit("RGBA")
uploads = [SimpleUploadedFile("p.png", png, "image/png") for _ in range(4)]
before = peak_reset()
threads = [threading.Thread(target=image_sanitize, args=(u,)) for u in uploads]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print((peak_kb() - before) / 1024)
"""


@pytest.mark.slow
@pytest.mark.skipif(
    not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux's peak-memory reset"
)
def test_four_threads_with_the_largest_allowed_png_hold_one_decode_at_a_time(settings):
    """
    A gunicorn worker's four threads each get an RGBA PNG at the pixel limit: the process's
    memory rises by one full decode (4 bytes a pixel) and a little, not four.
    """
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_OF_FOUR_THREADS],
        cwd=settings.BASE_DIR,
        env={**os.environ, "PYTHONPATH": str(settings.BASE_DIR)},
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    peak_mb = float(result.stdout.strip().splitlines()[-1])
    one_decode_mb = settings.REGISTRATION_IMAGE_MAX_PIXELS * 4 / 1024 / 1024
    assert peak_mb < one_decode_mb * 1.25, f"peak rise {peak_mb:.0f} MB"
