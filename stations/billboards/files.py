"""Billboard files: the PDF of one or many stations, the poster PNG, and their cache."""

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from reportlab.lib import pagesizes
from reportlab.pdfgen.canvas import Canvas

from core.caching import cache_get, cache_set
from stations.billboards.content import billboard_content
from stations.billboards.layout import Region, draw_billboard
from stations.billboards.renderers import PdfRenderer, PngRenderer
from stations.constants import POSTER_SIZE, BillboardPurpose, BillboardSize

# Part of every cache key: change it whenever the drawing changes.
LAYOUT_VERSION = "2"
BILLBOARD_CACHE_TIMEOUT = 30 * 24 * 60 * 60

PAGE_SIZES = {
    BillboardSize.A4: pagesizes.A4,
    BillboardSize.A3: pagesizes.A3,
    BillboardSize.A2: pagesizes.A2,
}


@dataclass
class Built:
    content: bytes
    pages: list[list[Region]]


def build_pdf(
    stations, size: str = BillboardSize.A3, purpose: str = BillboardPurpose.BOTH
) -> Built:
    """Return a PDF with one billboard page per station (vector, font embedded)."""
    width, height = PAGE_SIZES[BillboardSize(size)]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, invariant=1)
    codes = []
    pages = []
    for station in stations:
        codes.append(station.code)
        pages.append(
            draw_billboard(PdfRenderer(canvas, width, height), billboard_content(station, purpose))
        )
        canvas.showPage()
    canvas.setTitle(f"Linli billboards {', '.join(codes)} ({size})")
    canvas.setAuthor("Linli")
    canvas.save()
    return Built(content=buffer.getvalue(), pages=pages)


def build_poster(station, purpose: str = BillboardPurpose.BOTH) -> Built:
    """Return the PNG poster (phone-screen proportions) for sharing in WeChat groups."""
    renderer = PngRenderer(*POSTER_SIZE)
    regions = draw_billboard(renderer, billboard_content(station, purpose))
    return Built(content=renderer.png(), pages=[regions])


@lru_cache(maxsize=1)
def catalogue_digest() -> str:
    """Return a digest of this app's compiled translations: new wording, new billboards."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).resolve().parents[1] / "locale").glob("*/LC_MESSAGES/*.mo")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def station_fingerprint(station) -> str:
    """Return a digest of everything a billboard of ``station`` shows (for cache keys)."""
    parts = [
        LAYOUT_VERSION,
        catalogue_digest(),
        settings.SITE_URL,
        ",".join(station.billboard_language_codes()),
        station.code,
        station.phone,
        station.wechat_id,
    ]
    for text in sorted(station.texts.all(), key=lambda t: t.language):
        parts += [text.language, text.name, text.address, text.opening_hours]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def billboard_file(
    station, *, kind: str, size: str = BillboardSize.A3, purpose: str = BillboardPurpose.BOTH
):
    """
    Return ``(content, etag)`` of a station's billboard PDF (``kind="pdf"``) or poster PNG.

    Cached under a fingerprint of what it shows: built once, again only when the station,
    its texts, its billboard languages or ``SITE_URL`` change.
    """
    digest = hashlib.sha256(
        f"{kind}|{size}|{purpose}|{station_fingerprint(station)}".encode()
    ).hexdigest()[:32]
    key = f"stations:billboard:{digest}"
    content = cache_get(key)
    if content is None:
        built = (
            build_pdf([station], size, purpose) if kind == "pdf" else build_poster(station, purpose)
        )
        content = built.content
        cache_set(key, content, BILLBOARD_CACHE_TIMEOUT)
    return content, f'"{digest}"'
