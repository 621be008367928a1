"""
QR codes of the stable station URLs, as SVG and PNG.

The URL inside a QR code is built from ``settings.SITE_URL`` and the URL name of the target,
never from a request's Host header: a forged header must never end up on a printed wall.
Error correction is ``H`` (30 % of the code may be dirty or covered and it still scans).
"""

import functools
import hashlib
import io
import itertools
import re
from dataclasses import dataclass

import qrcode
import qrcode.constants
import qrcode.main
import qrcode.util
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
    code.best_fit()  # what code.make(fit=True) does, with the same mask chosen faster
    code.makeImpl(False, best_mask(code))
    return code.get_matrix()


# ---- The mask: qrcode's own choice, computed on whole rows ----------------------------
# qrcode lays the modules out once per mask and scores each in pure Python (8.5 ms of a
# receipt's ~16 ms; the receipt's code holds that registration's own link, so no cache
# helps). The same scores of the standard's four rules, as qrcode counts them, from one
# layout: the data modules flipped where two masks differ, rows as integers (every rule
# reads a row the same both ways), runs and finder-like patterns by regular expression.
# tests/stations/test_qr.py pins the choice to qrcode's best_mask_pattern.
_RUNS = re.compile(r"0{5,}|1{5,}")  # rule 1: runs of five or more of one colour
_FINDERS = re.compile(r"(?=10111010000|00001011101)")  # rule 3 (symmetric: bit order free)


_BITS = bytes.maketrans(b"\x00\x01", b"01")


def _row(modules) -> int:
    """One row of modules (booleans) as an integer, the first module its highest bit."""
    return int(bytes(modules).translate(_BITS), 2)


@functools.lru_cache(maxsize=8)
def _mask_rows(side: int) -> tuple[tuple[int, ...], ...]:
    """Each mask of a ``side``-module code as one integer per row (set: module masked)."""
    return tuple(
        tuple(
            _row(bool(qrcode.util.mask_func(pattern)(r, c)) for c in range(side))
            for r in range(side)
        )
        for pattern in range(8)
    )


_data_rows: dict[int, tuple[int, ...]] = {}  # version -> which modules hold data, per row


def _data_modules(code: qrcode.QRCode) -> tuple[int, ...]:
    """The modules of ``code``'s version that hold data: empty in its blank with format info."""
    rows = _data_rows.get(code.version)
    if rows is None:
        laid = code.modules
        code.modules = [row[:] for row in qrcode.main.precomputed_qr_blanks[code.version]]
        code.setup_type_info(True, 0)
        if code.version >= 7:
            code.setup_type_number(True)
        rows = _data_rows[code.version] = tuple(
            _row(module is None for module in row) for row in code.modules
        )
        code.modules = laid
    return rows


def _penalty(rows: list[int], side: int) -> int:
    """qrcode.util.lost_point of the code whose rows are ``rows``."""
    lines = [format(row, f"0{side}b") for row in rows]
    text = "\n".join(lines + ["".join(column) for column in zip(*lines, strict=True)])
    runs = _RUNS.findall(text)
    points = sum(map(len, runs)) - 2 * len(runs)
    points += 40 * len(_FINDERS.findall(text))
    full = (1 << side) - 1
    for upper, lower in itertools.pairwise(rows):
        same = ~(upper ^ lower) & full  # module c the same colour in both rows
        across = ~(upper ^ (upper >> 1)) & (full >> 1)  # modules c and c + 1 the same
        points += 3 * (same & (same >> 1) & across).bit_count()  # rule 2: 2x2 blocks
    dark = sum(row.bit_count() for row in rows)
    return points + 10 * int(abs(float(dark) / side**2 * 100 - 50) / 5)  # rule 4


def best_mask(code: qrcode.QRCode) -> int:
    """``code.best_mask_pattern()`` (the lowest penalty, the first of equals), faster."""
    code.makeImpl(True, 0)  # test layout: format modules light, as qrcode scores them
    side = code.modules_count
    laid = [_row(row) for row in code.modules]
    data, masks = _data_modules(code), _mask_rows(side)
    scores = [
        _penalty(
            [
                row ^ ((first ^ other) & cells)
                for row, first, other, cells in zip(
                    laid, masks[0], masks[pattern], data, strict=True
                )
            ],
            side,
        )
        for pattern in range(8)
    ]
    return scores.index(min(scores))


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
