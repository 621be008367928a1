"""
Fonts and text shaping of billboards: which embedded font draws each character, and how
right-to-left text is shaped and ordered before ReportLab or Pillow draws it.

Both renderers draw code points left to right, one glyph each: they neither join Arabic
letters nor reorder right-to-left text. So each line, once broken, goes through two steps:

1. **Shaping** — ``arabic_reshaper`` turns Arabic letters into their joined forms (initial,
   medial, final, and the lam-alef ligatures), which Unicode encodes as Arabic
   Presentation Forms. They are real characters: the PDF's text layer maps each glyph to
   one, and readers fold them back to the base letters (pdfium, behind Chrome's viewer,
   returns the logical text), so the billboard's text stays searchable and copyable.
2. **Ordering** — ``python-bidi`` (the Unicode bidirectional algorithm, Rust's
   ``unicode-bidi``) puts the line in visual order: Arabic right to left, numbers, codes and
   URLs inside it left to right, brackets mirrored.

Why not HarfBuzz (``uharfbuzz``, which ReportLab 4+ can call)? It is the better shaper in
general (marks, every script), but ReportLab's use of it needs its own ``rlbidi`` for
mixed directions, and the unencoded contextual glyphs it draws read back from the PDF in
visual (reversed) order; our texts are short sentences without vowel marks, which the
table-driven reshaper joins exactly. Both libraries are small and maintained
(arabic-reshaper: MIT, pure Python; python-bidi: LGPL-3.0, a wheel around Rust's
unicode-bidi).

Fonts (``stations/fonts/``, SIL Open Font License 1.1, TrueType outlines as ReportLab
requires): Noto Sans SC draws Latin, Cyrillic, Chinese and kana; subsets of Noto Sans KR
(Hangul), Noto Sans JP (kana and the JIS X 0208 kanji) and Noto Sans Arabic draw what SC
lacks. A character takes the first font of its language's chain that has it, so a
Japanese text gets Japanese glyph forms and everything else the same Latin and digits.
"""

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import arabic_reshaper
from bidi import get_display
from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from core.languages import language_is_bidi

FONT_DIR = Path(__file__).resolve().parent / "fonts"


@dataclass(frozen=True)
class Font:
    """An embedded font: its ReportLab name and its file in ``stations/fonts/``."""

    name: str
    file: str

    @property
    def path(self) -> Path:
        return FONT_DIR / self.file


SC = Font("NotoSansSC", "NotoSansSC-Regular.ttf")
KR = Font("NotoSansKR", "NotoSansKR-Hangul.ttf")
JP = Font("NotoSansJP", "NotoSansJP-KanaKanji.ttf")
ARABIC = Font("NotoSansArabic", "NotoSansArabic-Regular.ttf")
# The order in which fonts are tried for a character; SC first, so Latin, digits and
# punctuation look the same in every language.
FALLBACK = (SC, KR, JP, ARABIC)
# Languages whose characters another font also covers, with their own glyph forms first
# (kanji drawn as Japanese, not Chinese, shapes). Any other language needs no entry.
PREFERRED_FONT = {"ja": JP}

_lock = threading.Lock()


def pdf_font_register(font: Font = SC) -> str:
    """Register ``font`` with ReportLab once and return its name."""
    with _lock:
        if font.name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(font.name, str(font.path)))
    return font.name


@lru_cache(maxsize=len(FALLBACK))
def _coverage(font: Font) -> frozenset[int]:
    """Return the code points ``font`` has a glyph for."""
    pdf_font_register(font)
    return frozenset(pdfmetrics.getFont(font.name).face.charToGlyph)


@lru_cache(maxsize=256)
def pillow_font(font: Font, size: int) -> ImageFont.FreeTypeFont:
    """Return ``font`` for Pillow at ``size`` pixels, laid out as given (already visual)."""
    return ImageFont.truetype(str(font.path), size, layout_engine=ImageFont.Layout.BASIC)


def font_chain(language: str) -> tuple[Font, ...]:
    """Return the fonts tried, in order, for a character of a text in ``language``."""
    preferred = PREFERRED_FONT.get(language.split("-")[0])
    if preferred is None:
        return FALLBACK
    return (preferred, *(font for font in FALLBACK if font != preferred))


_BIDI_CONTROLS = dict.fromkeys(
    [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


@dataclass(frozen=True)
class Run:
    """Characters drawn with one font, in visual order (left to right)."""

    font: Font
    text: str


@lru_cache(maxsize=4096)
def visual_runs(text: str, language: str) -> tuple[Run, ...]:
    """
    Return one line of ``text`` (logical order) as runs to draw left to right.

    Right-to-left text is shaped and reordered; a paragraph in a right-to-left language
    starts from the right even when it begins with a number or a Latin word.
    """
    rtl = language_is_bidi(language)
    if rtl or _has_rtl(text):
        text = get_display(arabic_reshaper.reshape(text), base_dir="R" if rtl else "L")
    # Directional marks and isolates steer the ordering above; no font draws them.
    text = text.translate(_BIDI_CONTROLS)
    chain = font_chain(language)
    runs: list[Run] = []
    for char in text:
        font = next((f for f in chain if ord(char) in _coverage(f)), chain[0])
        if runs and (runs[-1].font == font or _keeps_run(char, runs[-1].font)):
            runs[-1] = Run(runs[-1].font, runs[-1].text + char)
        else:
            runs.append(Run(font, char))
    return tuple(runs)


def _keeps_run(char: str, font: Font) -> bool:
    # Spaces inside a run stay with it: fewer font switches, the run's own word spacing.
    return char.isspace() and ord(char) in _coverage(font)


def pdf_width(text: str, language: str, size: float) -> float:
    """Return the width in points of one line as the PDF draws it."""
    return sum(
        pdfmetrics.stringWidth(run.text, run.font.name, size) for run in visual_runs(text, language)
    )


def pillow_width(text: str, language: str, size: int) -> float:
    """Return the width in pixels of one line as the PNG draws it."""
    return sum(
        pillow_font(run.font, size).getlength(run.text) for run in visual_runs(text, language)
    )
