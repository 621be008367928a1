"""
Printable billboards (vector PDF in A4, A3, A2) and the WeChat poster (PNG, 1080×1920).

One layout draws both, through a small renderer interface (ReportLab for the PDF, Pillow for
the PNG). Every text appears in **each language the station chose** for its billboards
(``Station.billboard_languages``, each rendered inside ``translation.override``), and every
text block is shrunk to fit its own rectangle, so nothing overflows or collides, whatever
the languages or the length of a name. A paragraph in a right-to-left language is aligned
to the right. Fonts, shaping and right-to-left ordering: ``stations.typesetting``; the fonts
are embedded (subset) in every PDF, so every script prints on any printer.
"""

import hashlib
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw
from reportlab.lib import pagesizes
from reportlab.pdfgen.canvas import Canvas

from core.caching import cache_get, cache_set
from core.languages import language_is_bidi
from stations import typesetting
from stations.constants import POSTER_SIZE, BillboardPurpose, BillboardSize, QrTarget
from stations.qr import QUIET_ZONE, dark_runs, qr_matrix, short_url, station_url

# Part of every cache key: change it whenever the drawing changes.
LAYOUT_VERSION = "2"
BILLBOARD_CACHE_TIMEOUT = 30 * 24 * 60 * 60

PAGE_SIZES = {
    BillboardSize.A4: pagesizes.A4,
    BillboardSize.A3: pagesizes.A3,
    BillboardSize.A2: pagesizes.A2,
}

ACCENT = (0xB3, 0x26, 0x1E)
INK = (0x11, 0x11, 0x11)
MUTED = (0x44, 0x44, 0x44)
WHITE = (0xFF, 0xFF, 0xFF)

LEADING = 1.3  # line box height as a multiple of the font size
ASCENT = 0.88  # the font's ascender, as a fraction of the font size
ELLIPSIS = "…"


def pdf_font() -> str:
    """Register the main billboard font (Latin, Cyrillic, Chinese) and return its name."""
    return typesetting.pdf_font_register(typesetting.SC)


class Said(str):
    """A text of the billboard and the language it is in (fonts, direction, alignment)."""

    language: str

    def __new__(cls, text: str, language: str):
        said = super().__new__(cls, text)
        said.language = language
        return said


# ------------------------------------------------------------------------------
# Text fitting
# ------------------------------------------------------------------------------
# Chinese and Japanese characters (and their punctuation) may break anywhere. Korean puts
# spaces between words and a sign reads better broken there, so Hangul breaks like Latin
# (a word wider than the line is still broken between characters).
_TOKEN = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+|\s+"
)


def wrap(text: str, width: float, measure) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (``measure(text)`` gives a width)."""
    lines: list[str] = []
    for source_line in text.splitlines() or [""]:
        line = ""
        for token in _TOKEN.findall(source_line):
            candidate = line + token
            if measure(candidate.rstrip()) <= width:
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            token = token.lstrip() if token.isspace() else token
            line = ""
            # A single word wider than the line (a long URL): break it between characters.
            for char in token:
                if measure(line + char) > width and line:
                    lines.append(line)
                    line = ""
                line += char
        lines.append(line.rstrip())
    return [line for line in lines if line] or [""]


@dataclass
class Para:
    """A paragraph of a text block; ``scale`` multiplies the block's font size."""

    text: str
    scale: float = 1.0
    bold: bool = False
    color: tuple = INK
    language: str = ""

    def __post_init__(self):
        self.language = self.language or getattr(self.text, "language", "") or "en"

    @property
    def rtl(self) -> bool:
        return language_is_bidi(self.language)


@dataclass
class Region:
    """A rectangle of the page (top-left origin) and what it holds."""

    kind: str
    x: float
    top: float
    width: float
    height: float
    # Of a text block: the smallest font size used (points or pixels), and whether text
    # had to be cut to fit.
    font_size: float = 0.0
    cut: bool = False

    def contains(self, x0, top0, x1, top1, tolerance=1.0) -> bool:
        return (
            x0 >= self.x - tolerance
            and x1 <= self.x + self.width + tolerance
            and top0 >= self.top - tolerance
            and top1 <= self.top + self.height + tolerance
        )

    def overlaps(self, other: "Region") -> bool:
        return not (
            self.x + self.width <= other.x
            or other.x + other.width <= self.x
            or self.top + self.height <= other.top
            or other.top + other.height <= self.top
        )


def fit_block(paras: list[Para], width, height, max_size, min_size, measure):
    """
    Return ``(size, [(para, lines)])``: the largest font size at which all paragraphs fit.

    ``measure(text, size, language)`` gives a line's width. At ``min_size`` the text that
    still does not fit is cut with an ellipsis: a block never overflows its rectangle.
    """
    size = max_size
    while True:
        laid = [
            (p, wrap(p.text, width, lambda t, s=size * p.scale, p=p: measure(t, s, p.language)))
            for p in paras
        ]
        used = sum(len(lines) * size * p.scale * LEADING for p, lines in laid)
        if used <= height or size <= min_size:
            break
        size = max(min_size, size * 0.94)
    if used > height:
        laid = _truncate(laid, size, width, height, measure)
    return size, laid


def _truncate(laid, size, width, height, measure):
    kept, used = [], 0.0
    for para, lines in laid:
        line_height = size * para.scale * LEADING
        room = int((height - used) // line_height)
        if room <= 0:
            break
        if room < len(lines):
            last = lines[room - 1]
            while last and measure(last + ELLIPSIS, size * para.scale, para.language) > width:
                last = last[:-1]
            lines = [*lines[: room - 1], last + ELLIPSIS]
        kept.append((para, lines))
        used += len(lines) * line_height
    return kept


# ------------------------------------------------------------------------------
# Renderers: ReportLab (PDF, points) and Pillow (PNG, pixels); top-left coordinates
# ------------------------------------------------------------------------------
class PdfRenderer:
    def __init__(self, canvas: Canvas, width: float, height: float):
        self.canvas, self.width, self.height = canvas, width, height

    def measure(self, text: str, size: float, language: str) -> float:
        return typesetting.pdf_width(text, language, size)

    def text(self, x, baseline, text, size, language, *, bold=False, color=INK):
        c = self.canvas
        c.setFillColorRGB(*(v / 255 for v in color))
        if bold:  # one font file: bold is the outline stroked in the text colour
            c.setStrokeColorRGB(*(v / 255 for v in color))
            c.setLineWidth(size * 0.03)
        for run in typesetting.visual_runs(text, language):
            c.setFont(typesetting.pdf_font_register(run.font), size)
            c.drawString(x, self.height - baseline, run.text, mode=2 if bold else 0)
            x += c.stringWidth(run.text, run.font.name, size)

    def rect(self, x, top, width, height, color):
        self.canvas.setFillColorRGB(*(v / 255 for v in color))
        self.canvas.rect(x, self.height - top - height, width, height, stroke=0, fill=1)

    def qr(self, matrix, x, top, side):
        module = side / (len(matrix) + 2 * QUIET_ZONE)
        self.rect(x, top, side, side, WHITE)
        path = self.canvas.beginPath()
        for row, column, length in dark_runs(matrix):
            left = x + (column + QUIET_ZONE) * module
            y = self.height - top - (row + QUIET_ZONE + 1) * module
            path.rect(left, y, length * module, module)
        self.canvas.setFillColorRGB(0, 0, 0)
        self.canvas.drawPath(path, stroke=0, fill=1)


class PngRenderer:
    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.image = Image.new("RGB", (width, height), WHITE)
        self.draw = ImageDraw.Draw(self.image)

    def measure(self, text: str, size: float, language: str) -> float:
        return typesetting.pillow_width(text, language, max(1, round(size)))

    def text(self, x, baseline, text, size, language, *, bold=False, color=INK):
        size = max(1, round(size))
        for run in typesetting.visual_runs(text, language):
            font = typesetting.pillow_font(run.font, size)
            self.draw.text(
                (x, baseline),
                run.text,
                font=font,
                fill=color,
                anchor="ls",
                stroke_width=round(size * 0.03) if bold else 0,
                stroke_fill=color,
            )
            x += font.getlength(run.text)

    def rect(self, x, top, width, height, color):
        self.draw.rectangle([x, top, x + width - 1, top + height - 1], fill=color)

    def qr(self, matrix, x, top, side):
        total = len(matrix) + 2 * QUIET_ZONE
        module = max(1, int(side // total))  # whole pixels: crisp modules
        offset_x = round(x + (side - module * total) / 2) + QUIET_ZONE * module
        offset_y = round(top + (side - module * total) / 2) + QUIET_ZONE * module
        self.rect(round(x), round(top), round(side), round(side), WHITE)
        for row, column, length in dark_runs(matrix):
            left, row_top = offset_x + column * module, offset_y + row * module
            self.draw.rectangle(
                [left, row_top, left + length * module - 1, row_top + module - 1], fill=(0, 0, 0)
            )

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()


# ------------------------------------------------------------------------------
# What a billboard says, in every language
# ------------------------------------------------------------------------------
@dataclass
class QrSpec:
    url: str
    captions: list[str]
    large: bool = True

    @property
    def matrix(self):
        return qr_matrix(self.url)


@dataclass
class BillboardContent:
    code: str
    headlines: list[str]
    names: list[str]
    rules: list[str]
    qrs: list[QrSpec]
    info: list[str]
    footer: list[str]
    emergency: list[str] = field(default_factory=list)


def _headline(purpose: str) -> str:
    # Literal msgids so that makemessages finds them.
    return {
        BillboardPurpose.BOTH: _("Scan to register your stay · Ask for help"),
        BillboardPurpose.REGISTER: _("Scan to register your stay"),
        BillboardPurpose.HELP: _("Scan to ask for help"),
        BillboardPurpose.STATION: _(
            "Scan to open the station page: register your stay, ask for help"
        ),
    }[BillboardPurpose(purpose)]


def _caption(target: str) -> str:
    return {
        QrTarget.STATION: _("Station page: register, update, ask for help"),
        QrTarget.REGISTER: _("Register my stay"),
        QrTarget.HELP: _("Ask for help"),
    }[QrTarget(target)]


def _unique(items: list[str]) -> list[str]:
    seen, result = set(), []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            result.append(item)
    return result


def _ltr(value: str) -> str:
    # A phone number or code inside a right-to-left sentence keeps its own order: the
    # bidi algorithm would otherwise reverse its groups ("+86 20 1234" as "1234 20 +86").
    return f"\u2066{value}\u2069"  # LEFT-TO-RIGHT ISOLATE … POP DIRECTIONAL ISOLATE


def billboard_content(
    station, purpose: str = BillboardPurpose.BOTH, languages: list[str] | None = None
) -> BillboardContent:
    """Gather everything a billboard of ``station`` says, in each of its billboard languages."""
    purpose = BillboardPurpose(purpose)
    if languages is None:
        languages = station.billboard_language_codes()
    headlines, names, rules, info, footer, emergency = [], [], [], [], [], []
    targets = {
        BillboardPurpose.BOTH: [QrTarget.REGISTER, QrTarget.HELP],
        BillboardPurpose.STATION: [QrTarget.STATION],
        BillboardPurpose.REGISTER: [QrTarget.REGISTER],
        BillboardPurpose.HELP: [QrTarget.HELP],
    }[purpose]
    captions: dict[str, list[str]] = {target: [] for target in targets}
    for language in languages:
        with translation.override(language):

            def said(value: str, language=language) -> Said:
                return Said(value, language)

            text = station.text(language)
            headlines.append(said(_headline(purpose)))
            names.append(Said(text.name, text.language) if text else said(station.code))
            rules.append(
                said(_("Foreign residents register their stay within 24 hours of arrival."))
            )
            for target in targets:
                captions[target].append(said(_caption(target)))
            if text and text.address:
                address = " ".join(text.address.split())
                info.append(Said(_("Address: %(address)s") % {"address": address}, language))
            if text and text.opening_hours:
                hours = "; ".join(
                    line.strip() for line in text.opening_hours.splitlines() if line.strip()
                )
                info.append(said(_("Opening hours: %(hours)s") % {"hours": hours}))
            contact = []
            if station.phone:
                contact.append(_("Phone: %(phone)s") % {"phone": _ltr(station.phone)})
            if station.wechat_id:
                contact.append(_("WeChat: %(wechat_id)s") % {"wechat_id": _ltr(station.wechat_id)})
            if contact:
                info.append(said(" · ".join(contact)))
            footer.append(said(_("Station code: %(code)s") % {"code": _ltr(station.code)}))
            emergency.append(
                said(
                    _(
                        "Emergency: police 110 · fire 119 · ambulance 120 · city hotline 12345 · immigration 12367"
                    )
                )
            )
    qrs = [
        QrSpec(
            url=station_url(station.code, target),
            captions=_unique(captions[target]),
            large=(index == 0),
        )
        for index, target in enumerate(targets)
    ]
    return BillboardContent(
        code=station.code,
        headlines=_unique(headlines),
        names=_unique(names),
        rules=_unique(rules),
        qrs=qrs,
        info=_unique(info),
        footer=_unique(footer),
        emergency=_unique(emergency),
    )


# ------------------------------------------------------------------------------
# The layout
# ------------------------------------------------------------------------------
def _draw_block(r, region: Region, paras, max_size, min_size, *, align="center", valign="center"):
    size, laid = fit_block(paras, region.width, region.height, max_size, min_size, r.measure)
    region.font_size = min((size * p.scale for p, _lines in laid), default=size)
    region.cut = len(laid) < len(paras) or any(
        lines and lines[-1].endswith(ELLIPSIS) and not p.text.endswith(ELLIPSIS)
        for p, lines in laid
    )
    used = sum(len(lines) * size * p.scale * LEADING for p, lines in laid)
    top = region.top + (region.height - used) / 2 if valign == "center" else region.top
    for para, lines in laid:
        line_size = size * para.scale
        line_height = line_size * LEADING
        for line in lines:
            baseline = top + (line_height - line_size) / 2 + ASCENT * line_size
            width = r.measure(line, line_size, para.language)
            if align == "center":
                x = region.x + (region.width - width) / 2
            else:  # "start": the side a line of this language begins on
                x = region.x + region.width - width if para.rtl else region.x
            r.text(x, baseline, line, line_size, para.language, bold=para.bold, color=para.color)
            top += line_height
    return region


def draw_billboard(r, content: BillboardContent) -> list[Region]:
    """Draw one billboard on renderer ``r``; return the regions drawn (for tests)."""
    W, H = r.width, r.height
    s = W / pagesizes.A4[0]  # font sizes are designed for A4 and scale with the page
    m = 0.06 * W
    inner = W - 2 * m
    gap = 0.012 * H
    regions: list[Region] = []
    min_size = 5 * s

    # Accent band with the headline in every language.
    band_h = 0.12 * H
    r.rect(0, 0, W, band_h, ACCENT)
    regions.append(
        _draw_block(
            r,
            Region("headline", m, 0.015 * H, inner, band_h - 0.03 * H),
            [Para(text, bold=True, color=WHITE) for text in content.headlines],
            28 * s,
            min_size,
        )
    )
    top = band_h + gap
    for kind, height, paras, max_size in (
        ("names", 0.12 * H, [Para(n, bold=True) for n in content.names], 24 * s),
        ("rule", 0.06 * H, [Para(t, color=ACCENT, bold=True) for t in content.rules], 14 * s),
    ):
        regions.append(
            _draw_block(r, Region(kind, m, top, inner, height), paras, max_size, min_size)
        )
        top += height + gap

    footer_h = 0.09 * H
    info_h = 0.12 * H
    qr_h = H - top - info_h - footer_h - 3 * gap
    regions.extend(_draw_qrs(r, content.qrs, m, top, inner, qr_h, s, min_size))
    top += qr_h + gap

    regions.append(
        _draw_block(
            r,
            Region("info", m, top, inner, info_h),
            [Para(t, color=MUTED) for t in content.info],
            12 * s,
            min_size,
            align="start",
        )
    )
    top += info_h + gap

    # Footer: the code (people type it) and the emergency numbers, in every language.
    r.rect(0, H - footer_h, W, footer_h, (0xF1, 0xF1, 0xF1))
    regions.append(
        _draw_block(
            r,
            Region("footer", m, H - footer_h + 0.01 * H, inner, footer_h - 0.02 * H),
            [Para("  ·  ".join(content.footer), scale=1.25, bold=True, language="en")]
            + [Para(t, color=MUTED) for t in content.emergency],
            11 * s,
            min_size,
        )
    )
    return regions


def _draw_qrs(r, qrs: list[QrSpec], x, top, width, height, s, min_size) -> list[Region]:
    regions = []
    caption_min = 0.16 * height
    if len(qrs) == 1:
        side = min(0.62 * width, height - caption_min)
        columns = [(qrs[0], x + (width - side) / 2, side, x, width)]
    else:
        big_w, small_w = 0.56 * width, 0.36 * width
        side = min(big_w, height - caption_min)
        small = min(small_w, 0.64 * side)
        columns = [
            (qrs[0], x, side, x, big_w),
            (
                qrs[1],
                x + width - small_w + (small_w - small) / 2,
                small,
                x + width - small_w,
                small_w,
            ),
        ]
    for spec, qr_x, qr_side, column_x, column_w in columns:
        r.qr(spec.matrix, qr_x, top, qr_side)
        regions.append(Region("qr", qr_x, top, qr_side, qr_side))
        caption = Region(
            "caption",
            column_x,
            top + qr_side + 0.01 * height,
            column_w,
            height - qr_side - 0.01 * height,
        )
        paras = [Para(c, bold=True) for c in spec.captions]
        paras.append(Para(short_url(spec.url), scale=0.85, color=MUTED, language="en"))
        regions.append(
            _draw_block(r, caption, paras, (16 if spec.large else 13) * s, min_size, valign="top")
        )
    return regions


# ------------------------------------------------------------------------------
# Building files
# ------------------------------------------------------------------------------
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
    for path in sorted((Path(__file__).resolve().parent / "locale").glob("*/LC_MESSAGES/*.mo")):
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
