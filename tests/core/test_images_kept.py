"""
A photo shrunk on the phone is kept without re-encoding, still without any metadata; any
photo is decoded once, and its thumbnail comes from that decode.
"""

import io

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from core.images import image_sanitize
from core.jpeg import jpeg_without_metadata
from tests.core.test_images import _gps_exif

HTML = b"<html><script>alert(document.cookie)</script></html>"


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("IMG_0001.jpg", data, "image/jpeg")


def _photo(size=(1500, 2000), **save) -> bytes:
    """A noisy photo (as a canvas on a phone writes it), saved with ``save`` options."""
    image = Image.effect_noise(size, 40).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, **save)
    return buffer.getvalue()


def _pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


@pytest.fixture
def decodes(monkeypatch):
    """Count the images Pillow actually decodes (a load with tiles still to read)."""
    counted = []
    load = ImageFile.ImageFile.load

    def counting_load(self):
        if self.tile:
            counted.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    return counted


def test_photo_shrunk_on_the_phone_is_kept_without_re_encoding_or_metadata():
    sent = _photo(exif=_gps_exif(), icc_profile=b"\0" * 128, comment=b"PhoneMaker") + HTML
    clean = image_sanitize(_upload(sent))
    data = clean.read()
    assert clean.re_encoded is False
    assert _pixels(data) == _pixels(sent)  # the very same pixels, no second loss
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (1500, 2000)
    assert not image.getexif()
    assert "exif" not in image.info and "icc_profile" not in image.info
    assert "comment" not in image.info
    assert b"PhoneMaker" not in data and b"GPS" not in data
    assert b"<script" not in data and data.endswith(b"\xff\xd9")  # nothing after the image


def test_progressive_and_grey_photos_are_kept_too():
    for sent in (_photo(progressive=True), _gps_free_grey()):
        clean = image_sanitize(_upload(sent))
        assert clean.re_encoded is False
        assert _pixels(clean.read()) == _pixels(sent)


def _gps_free_grey() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((800, 600), 30).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def test_small_photo_turned_by_exif_is_re_encoded_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the pixels must be turned, which needs a decode
    clean = image_sanitize(_upload(_photo(size=(400, 300), exif=exif)))
    assert clean.re_encoded is True
    image = Image.open(io.BytesIO(clean.read()))
    assert image.size == (300, 400) and not image.getexif()


def test_photo_larger_than_kept_or_cmyk_is_re_encoded():
    assert image_sanitize(_upload(_photo(size=(2400, 1800)))).re_encoded is True
    buffer = io.BytesIO()
    Image.new("CMYK", (300, 200), (0, 50, 100, 0)).save(buffer, "JPEG")
    clean = image_sanitize(_upload(buffer.getvalue()))
    assert clean.re_encoded is True
    assert Image.open(io.BytesIO(clean.read())).mode == "RGB"


def test_small_jpeg_cut_short_is_still_rejected():
    sent = _photo(size=(1200, 900))
    with pytest.raises(ValidationError) as raised:
        image_sanitize(_upload(sent[: len(sent) // 3]))
    assert raised.value.code == "image_invalid"


def test_unknown_segments_are_not_kept_as_sent():
    sent = _photo(size=(300, 200))
    assert jpeg_without_metadata(sent) is not None
    sof3 = sent.replace(b"\xff\xc0", b"\xff\xc3", 1)  # a lossless frame: not parsed here
    assert jpeg_without_metadata(sof3) is None
    assert jpeg_without_metadata(b"\xff\xd8\xff\xd9") is None  # no frame, no scan
    assert jpeg_without_metadata(sent[:-2]) is None  # no end of image


def test_shrunk_photo_is_decoded_once_at_the_thumbnails_scale(decodes):
    clean = image_sanitize(_upload(_photo()), thumbnail_side=256)
    assert clean.re_encoded is False
    assert len(decodes) == 1
    assert max(decodes[0]) < 2000  # decoded at a reduced scale, never at full size
    thumbnail = Image.open(io.BytesIO(clean.thumbnail))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) == 256
    assert thumbnail.size == (192, 256)  # the photo's proportions


def test_full_size_photo_is_decoded_once_for_photo_and_thumbnail(decodes):
    exif = Image.Exif()
    exif[0x0112] = 6
    clean = image_sanitize(_upload(_photo(size=(3000, 2000), exif=exif)), thumbnail_side=256)
    assert clean.re_encoded is True
    assert len(decodes) == 1
    side = settings.REGISTRATION_IMAGE_MAX_SIDE
    width, height = Image.open(io.BytesIO(clean.read())).size
    assert height == side and abs(width - side * 2 / 3) <= 1  # upright, within the limit
    thumbnail = Image.open(io.BytesIO(clean.thumbnail))
    assert thumbnail.size == (171, 256) and not thumbnail.getexif()  # upright, like the photo


def test_twelve_megapixel_photo_is_kept_as_decoded_at_half_scale(decodes):
    # 4032x3024, a 12 MP phone's: decoded at 1/2 (2016x1512), within the limit, so kept at
    # that size (no resampling), turned upright.
    exif = Image.Exif()
    exif[0x0112] = 6
    clean = image_sanitize(_upload(_photo(size=(4032, 3024), exif=exif)), thumbnail_side=256)
    assert decodes == [(2016, 1512)]
    assert Image.open(io.BytesIO(clean.read())).size == (1512, 2016)
    assert max(1512, 2016) <= settings.REGISTRATION_IMAGE_MAX_SIDE


def test_photo_shrunk_to_the_limit_is_decoded_straight_at_its_thumbnails_size(decodes):
    side = settings.REGISTRATION_IMAGE_MAX_SIDE  # what photo-shrink.js sends: 2048 x 1536
    clean = image_sanitize(_upload(_photo(size=(side, side * 3 // 4))), thumbnail_side=256)
    assert clean.re_encoded is False
    assert decodes == [(256, 192)]  # 1/8, the thumbnail's own size: no resampling
    assert Image.open(io.BytesIO(clean.thumbnail)).size == (256, 192)


def test_damaged_shrunk_photos_are_refused_or_clean_never_an_error():
    import random

    sent = _photo(size=(600, 400), exif=_gps_exif(), progressive=True)
    rnd = random.Random(19)
    for _ in range(150):
        damaged = bytearray(sent)
        for _ in range(rnd.randint(1, 8)):  # flip bytes anywhere: headers, tables, scans
            damaged[rnd.randrange(len(damaged))] = rnd.randrange(256)
        if rnd.random() < 0.3:
            damaged = damaged[: rnd.randrange(2, len(damaged))]
        try:
            clean = image_sanitize(_upload(bytes(damaged)), thumbnail_side=256)
        except ValidationError as error:
            assert error.code in ("image_invalid", "image_too_many_pixels")
            continue
        data = clean.read()
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and not image.getexif()
        assert b"PhoneMaker" not in data and "icc_profile" not in image.info
