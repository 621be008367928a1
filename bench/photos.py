"""Realistic phone photos for the benchmark: 12-megapixel noisy JPEGs of about 4 MB."""

import io
import random

from PIL import Image, ImageDraw

PHONE_SIZE = (4032, 3024)  # a 12 MP phone camera
TARGET_BYTES = 4_000_000


def _scene(seed: int) -> Image.Image:
    width, height = PHONE_SIZE
    gradient = Image.linear_gradient("L").resize(PHONE_SIZE)
    image = Image.merge(
        "RGB",
        (
            gradient,
            gradient.rotate(90).resize(PHONE_SIZE),
            Image.radial_gradient("L").resize(PHONE_SIZE),
        ),
    )
    draw = ImageDraw.Draw(image)
    rnd = random.Random(seed)
    for _ in range(60):  # a document page, a desk, shadows: blocks of colour
        x, y = rnd.randrange(width), rnd.randrange(height)
        draw.rectangle(
            [x, y, x + rnd.randrange(50, 900), y + rnd.randrange(30, 500)],
            fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)),
        )
    # Sensor noise, different in each channel (chroma noise), as in a phone photo indoors.
    return Image.merge(
        "RGB",
        [Image.blend(c, Image.effect_noise(PHONE_SIZE, 40), 0.3) for c in image.split()],
    )


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "BenchPhone"  # Make
    exif[0x0110] = "BP-12"  # Model
    exif[0x0112] = 6  # Orientation: rotated, as most portrait phone photos are
    exif[0x0132] = "2026:11:25 09:30:00"  # DateTime
    return exif


def phone_photo(seed: int = 1, target: int = TARGET_BYTES) -> bytes:
    """Return a 4032×3024 JPEG with noise and EXIF, its size as close to ``target`` as can be."""
    image = _scene(seed)
    best = b""
    low, high = 70, 97
    while low <= high:  # the JPEG quality that gives the size closest to (above) target
        quality = (low + high) // 2
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, exif=_exif())
        data = buffer.getvalue()
        if not best or abs(len(data) - target) < abs(len(best) - target):
            best = data
        if len(data) < target:
            low = quality + 1
        else:
            high = quality - 1
    return best


# What registration/static/registration/photo-shrink.js does on a phone with JavaScript:
# `MAX_SIDE = parseInt(box.dataset.maxSide)` (the page's data-max-side, which is
# settings.REGISTRATION_IMAGE_MAX_SIDE), `QUALITY = 0.85` for canvas.toBlob("image/jpeg"),
# `KEEP_BELOW_BYTES = 600 * 1024` (a photo already within MAX_SIDE and under it is sent as
# chosen), EXIF orientation applied by createImageBitmap(..., {imageOrientation:
# "from-image"}), and the shrunken file kept only if smaller than the original.
SHRINK_QUALITY = 85  # canvas.toBlob(..., "image/jpeg", 0.85): libjpeg quality 85
SHRINK_KEEP_BELOW_BYTES = 600 * 1024


def phone_shrink(data: bytes, max_side: int) -> bytes:
    """Return what photo-shrink.js would send for the photo ``data`` (see above)."""
    from PIL import ImageOps

    with Image.open(io.BytesIO(data)) as image:
        oriented = ImageOps.exif_transpose(image)  # the canvas draws the photo upright
        width, height = oriented.size
        scale = min(1, max_side / max(width, height))
        if scale == 1 and len(data) <= SHRINK_KEEP_BELOW_BYTES:
            return data
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # imageSmoothingQuality "high": a Lanczos-like filter in Chromium (Skia).
        canvas = oriented.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=SHRINK_QUALITY)  # a canvas writes no EXIF
    small = buffer.getvalue()
    return small if len(small) < len(data) else data
