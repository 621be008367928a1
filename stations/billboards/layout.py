"""
The layout of a billboard: where each block goes, and the largest font size at which its
text fits its rectangle in every language (cut with an ellipsis at the smallest size), so
nothing overflows or collides. A paragraph in a right-to-left language is aligned to the
right. Drawn on any renderer (``stations.billboards.renderers``), in its own units.
"""

import re
from dataclasses import dataclass

from reportlab.lib import pagesizes

from core.languages import language_is_bidi
from stations.billboards.content import BillboardContent, QrSpec
from stations.qr import short_url

ACCENT = (0xB3, 0x26, 0x1E)
INK = (0x11, 0x11, 0x11)
MUTED = (0x44, 0x44, 0x44)
WHITE = (0xFF, 0xFF, 0xFF)

LEADING = 1.3  # line box height as a multiple of the font size
ASCENT = 0.88  # the font's ascender, as a fraction of the font size
ELLIPSIS = "…"


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
