"""
QR codes of the stable station URLs, as SVG and PNG.

The URL inside a QR code is built from ``settings.SITE_URL`` and the URL name of the target,
never from a request's Host header: a forged header must never end up on a printed wall.
Error correction is ``H`` (30 % of the code may be dirty or covered and it still scans).
"""

import hashlib
import io
from dataclasses import dataclass

import qrcode
import qrcode.constants
from django.conf import settings
from django.urls import reverse
from PIL import Image, ImageDraw

from core.caching import cache_get, cache_set
from stations.constants import QR_TARGET_URL_NAMES, QrTarget

QUIET_ZONE = 4  # modules of white around the code, as the standard asks
# Part of every cache key and ETag: change it when the drawing changes.
QR_DRAWING_VERSION = "1"


def station_url(code: str, target: str = QrTarget.STATION) -> str:
    """Return the absolute stable URL of ``target`` for the station ``code``."""
    path = reverse(QR_TARGET_URL_NAMES[QrTarget(target)], kwargs={"code": code})
    return f"{settings.SITE_URL}{path}"


def short_url(url: str) -> str:
    """Return ``url`` as people type it: without ``https://``."""
    return url.split("://", 1)[-1]


def qr_matrix(data: str) -> list[list[bool]]:
    """Return the modules of the QR code for ``data`` (``True`` is dark), without quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_H, border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def dark_runs(matrix: list[list[bool]]):
    """Yield ``(row, column, length)`` for each horizontal run of dark modules."""
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                yield y, start, x - start
            else:
                x += 1


def qr_svg(data: str) -> bytes:
    """Return a crisp, scalable SVG of the QR code for ``data`` (one path, white background)."""
    matrix = qr_matrix(data)
    side = len(matrix) + 2 * QUIET_ZONE
    path = "".join(
        f"M{x + QUIET_ZONE} {y + QUIET_ZONE}h{length}v1h-{length}z"
        for y, x, length in dark_runs(matrix)
    )
    title = data.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
        f'width="{side * 8}" height="{side * 8}" shape-rendering="crispEdges" role="img">'
        f"<title>{title}</title>"
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    ).encode()


def qr_image(data: str, size: int) -> Image.Image:
    """Return a ``size``×``size`` black-and-white image of the QR code, modules whole pixels."""
    matrix = qr_matrix(data)
    side = len(matrix) + 2 * QUIET_ZONE
    box = max(1, size // side)
    drawn = box * side
    image = Image.new("1", (max(size, drawn), max(size, drawn)), 1)
    offset = (image.width - drawn) // 2 + QUIET_ZONE * box
    draw = ImageDraw.Draw(image)
    for y, x, length in dark_runs(matrix):
        left, top = offset + x * box, offset + y * box
        draw.rectangle([left, top, left + length * box - 1, top + box - 1], fill=0)
    return image


def qr_png(data: str, size: int) -> bytes:
    """Return a PNG of the QR code for ``data``, ``size`` pixels wide."""
    buffer = io.BytesIO()
    qr_image(data, size).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@dataclass(frozen=True)
class QrFile:
    content: bytes
    content_type: str
    etag: str


def station_qr(code: str, target: str, fmt: str, size: int | None = None) -> QrFile:
    """
    Return the QR code of ``target`` for the station ``code`` as ``fmt`` (``svg``/``png``).

    Cached under ``SITE_URL`` + code + target + format + size, so a new ``SITE_URL`` (or a
    new code) gives new images; the ETag is derived from the same key.
    """
    url = station_url(code, target)
    identity = f"{QR_DRAWING_VERSION}|{url}|{fmt}|{size or ''}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    etag = f'"{digest}"'
    key = f"stations:qr:{digest}"
    content = cache_get(key)
    if content is None:
        content = qr_svg(url) if fmt == "svg" else qr_png(url, size or 512)
        cache_set(key, content, 7 * 24 * 60 * 60)
    content_type = "image/svg+xml" if fmt == "svg" else "image/png"
    return QrFile(content=content, content_type=content_type, etag=etag)
