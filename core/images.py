"""
The image pipeline for residents' photos: verify, orient, downscale, re-encode, strip.

Nothing the phone sent is kept as it was: the file must open as a JPEG, PNG, WebP or HEIC in
Pillow (whatever its name or Content-Type says), its pixel count is checked from the
header *before* decoding (decompression bombs fail fast), the EXIF orientation is applied,
very large photos are scaled down, and a new JPEG is written without any metadata (no GPS,
no camera, no ICC profile, no trailing bytes).

A JPEG already within the size kept, upright (no EXIF rotation) and in plain RGB or grey --
what photo-shrink.js sends -- is not re-encoded: ``core.jpeg`` rebuilds it from its image
segments only (no EXIF, XMP, ICC, comments or trailing bytes) and it is then decoded once,
at the small scale of its thumbnail, which also proves that the whole file decodes. Any
other photo is decoded once and both the photo kept and its thumbnail come from that decode.

Memory: a JPEG is decoded at a reduced scale (1/2 … 1/8) straight away; any other format is
decoded whole, at most ``REGISTRATION_IMAGE_MAX_PIXELS`` × 4 bytes (160 MB at 40 MP), and
reduced by an integer factor before any copy is made. A process decodes one photo at a
time, so a gunicorn worker's threads never hold several such buffers at once; measured
with ``bench/upload_memory.py``.
"""

import io
import threading
import uuid
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.jpeg import jpeg_without_metadata


class ImageError(models.TextChoices):
    """Why an upload is refused: the code (asserted by tests) and the message shown."""

    EMPTY = "image_empty", _("The file is empty.")
    TOO_LARGE = "image_too_large", _("The file is larger than %(max)s MB.")
    INVALID = (
        "image_invalid",
        _("This file is not a photo we can read. Send a JPEG, PNG, WebP or HEIC image."),
    )
    TOO_MANY_PIXELS = (
        "image_too_many_pixels",
        _(
            "This photo has more than %(max)s million pixels. Take it again at your camera's "
            "usual size, or send a screenshot of it."
        ),
    )


# Only these decoders are ever run on an upload: no EPS (Ghostscript), no SVG, no PDF.
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP")
try:  # iPhones photograph in HEIC; pillow-heif (libheif) decodes it when installed.
    import pillow_heif

    pillow_heif.register_heif_opener()
    ALLOWED_FORMATS = (*ALLOWED_FORMATS, "HEIF")
except ImportError:  # pragma: no cover - optional
    pass
JPEG_QUALITY = 85
# A JPEG decoded at a reduced scale (1/2 … 1/8) is kept at that size when its longest side
# falls between this share of REGISTRATION_IMAGE_MAX_SIDE and the limit: resampling it to
# the limit would cost more than decoding it (48 ms for 2016 → 2000 px) and gain at most
# an eighth of its width. Phones' sizes (4000, 4032, 8000, 8064, 8160 px) all land there.
KEPT_FROM = 7 / 8
# Modes Image.reduce() works on; others (palette, 1-bit, CMYK) become RGB(A) first.
_REDUCIBLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "I", "F"})
# One full-size decode at a time per process (see the module docstring).
_decode_lock = threading.Lock()


def _invalid() -> ValidationError:
    return ValidationError(ImageError.INVALID.label, code=ImageError.INVALID.value)


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        ImageError.TOO_MANY_PIXELS.label,
        code=ImageError.TOO_MANY_PIXELS.value,
        params={"max": settings.REGISTRATION_IMAGE_MAX_PIXELS // 1_000_000},
    )


def _reduce(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink a decoded image by a whole factor, keeping its longer side ≥ ``max_side``."""
    factor = max(image.size) // max_side
    if factor < 2:
        return image
    if image.mode not in _REDUCIBLE_MODES:
        transparent = image.mode in ("PA", "P") and "transparency" in image.info
        image = image.convert("RGBA" if transparent else "RGB")
    # Image.reduce() would first copy an RGBA image whole into premultiplied alpha (twice the
    # memory); averaging the straight channels is as good for a photo laid on white.
    return image._new(image.im.reduce((factor, factor), (0, 0, *image.size)))


def image_open(data) -> Image.Image:
    """
    Open ``data`` (a file object) as an allowed image, checking its size from the header.

    Pillow itself refuses images beyond twice ``Image.MAX_IMAGE_PIXELS`` when opening (before
    any decoding); our lower ``REGISTRATION_IMAGE_MAX_PIXELS`` is checked right after.
    """
    max_pixels = settings.REGISTRATION_IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(data, formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise _invalid() from None
    if image.format not in ALLOWED_FORMATS and image.format != "MPO":
        raise _invalid()
    width, height = image.size
    if width <= 0 or height <= 0:
        raise _invalid()
    if width * height > max_pixels:
        raise _too_many_pixels()
    return image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # Standard Huffman tables, not optimised ones: a second pass over a 2016 px photo costs
    # 13 ms more (24 vs 11 ms here) for a file 11 % smaller — the server's CPU under load is
    # what a resident waits for, and only photos from phones without JavaScript (and the
    # 256 px thumbnails) are encoded here; a photo shrunk on the phone is kept as sent.
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _thumbnail(image: Image.Image, side: int | None) -> bytes | None:
    """A JPEG of the decoded RGB ``image`` within ``side`` pixels (None without a side)."""
    if not side:
        return None
    small = image.copy() if max(image.size) > side else image
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    return _jpeg(small)


def _draft_size(image: Image.Image, side: int) -> tuple[int, int]:
    """The size to ask ``draft`` for: the photo's own proportions, longest side ``side``."""
    width, height = image.size
    ratio = side / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def _kept_as_sent(image: Image.Image, max_side: int) -> bool:
    """Whether ``image`` (opened, not decoded) needs no decoding to be kept: see above."""
    return (
        image.format in ("JPEG", "MPO")
        and image.mode in ("RGB", "L")
        and max(image.size) <= max_side
        and "adobe" not in image.info  # an Adobe marker may say the pixels are not YCbCr
        and image.getexif().get(0x0112, 1) == 1  # EXIF or XMP orientation: upright only
    )


def _stripped_clean_jpeg(
    data: bytes, thumbnail_side: int | None
) -> tuple[bytes, tuple[int, int], bytes | None] | None:
    """The JPEG ``data`` without metadata and its thumbnail, or None to re-encode it."""
    stripped = jpeg_without_metadata(data)
    if stripped is None:
        return None
    image = Image.open(io.BytesIO(stripped), formats=("JPEG",))
    size = image.size
    # One decode, at the smallest scale that still gives the thumbnail (1/8 without one):
    # every scan is read, so a broken file fails here as it would at full size.
    image.draft("RGB", _draft_size(image, thumbnail_side or 1))
    image.load()
    if image.mode != "RGB":
        image = image.convert("RGB")
    return stripped, size, _thumbnail(image, thumbnail_side)


def _decoded_clean_jpeg(
    image: Image.Image, max_side: int, thumbnail_side: int | None = None
) -> tuple[bytes, tuple[int, int], bytes | None]:
    """Decode ``image``; return it as a JPEG without metadata, its size and thumbnail."""
    if image.format in ("JPEG", "MPO"):
        # Decode a large JPEG at a reduced scale straight away (1/2, 1/4, 1/8): faster,
        # less memory. Ask for the photo's own proportions and the smallest scale still
        # at least KEPT_FROM of max_side: a 4032x3024 photo decodes at 2016x1512, which
        # fits 2048 as it is (no resampling below).
        image.draft("RGB", _draft_size(image, round(max_side * KEPT_FROM)))
    image.load()
    # Shrink before any full-size copy (orientation, mode conversion, resampling), and let
    # the full-size pixels go at once.
    reduced = _reduce(image, max_side)
    if reduced is not image:
        image.close()
        image = reduced
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A fresh image carries pixels only: no EXIF, XMP, ICC, comments or text chunks.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return _jpeg(clean), clean.size, _thumbnail(clean, thumbnail_side)


def image_sanitize(uploaded_file, *, thumbnail_side: int | None = None) -> ContentFile:
    """
    Return a clean JPEG of ``uploaded_file`` under a random name, or raise ValidationError.

    With ``thumbnail_side``, ``.thumbnail`` holds a JPEG of it within that many pixels,
    made from the same decode. ``.re_encoded`` says whether its pixels were re-encoded.
    Codes: ``image_empty``, ``image_too_large``, ``image_invalid``, ``image_too_many_pixels``.
    """
    max_bytes = settings.REGISTRATION_IMAGE_MAX_BYTES
    max_side = settings.REGISTRATION_IMAGE_MAX_SIDE
    size = getattr(uploaded_file, "size", None)
    if size is None:
        uploaded_file.seek(0, io.SEEK_END)
        size = uploaded_file.tell()
    if size == 0:
        raise ValidationError(ImageError.EMPTY.label, code=ImageError.EMPTY.value)
    if size > max_bytes:
        raise ValidationError(
            ImageError.TOO_LARGE.label,
            code=ImageError.TOO_LARGE.value,
            params={"max": max_bytes // (1024 * 1024)},
        )
    uploaded_file.seek(0)
    image = image_open(uploaded_file)
    with _decode_lock:
        try:
            kept = None
            if _kept_as_sent(image, max_side):
                uploaded_file.seek(0)
                kept = _stripped_clean_jpeg(uploaded_file.read(), thumbnail_side)
            out, clean_size, thumbnail = kept or _decoded_clean_jpeg(
                image, max_side, thumbnail_side
            )
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
            raise _invalid() from None
        finally:
            image.close()
    content = ContentFile(out, name=f"{uuid.uuid4().hex}.jpg")
    content.image_width, content.image_height = clean_size
    content.thumbnail, content.re_encoded = thumbnail, kept is None
    return content
