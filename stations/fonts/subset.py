"""
Make the billboard's font subsets from the full Noto fonts (maintainers only; the output is
committed). Needs fontTools (``pip install fonttools==4.68.0``), which Linli does not:

    python stations/fonts/subset.py NotoSansKR_400Regular.ttf NotoSansJP_400Regular.ttf \
        NotoSansArabic_400Regular.ttf

The inputs are the static TrueType-outline files of the npm packages
``@expo-google-fonts/noto-sans-kr``, ``-jp`` and ``-arabic`` 0.4.3 (``400Regular/``).
Hinting and layout tables are dropped: ReportLab and Pillow's basic layout use neither, and
Arabic arrives already shaped (``stations.typesetting``).
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
SPACES = [0x20, 0xA0]  # so a run of Hangul, kana or Arabic keeps its own spaces


def _jis_x_0208_kanji() -> list[int]:
    """Return the 6,355 kanji of JIS X 0208 (levels 1 and 2): everyday Japanese."""
    kanji = set()
    for first in range(0xB0, 0xF5):
        for second in range(0xA1, 0xFF):
            try:
                char = bytes([first, second]).decode("euc_jp")
            except UnicodeDecodeError:
                continue
            if len(char) == 1 and 0x4E00 <= ord(char) <= 0x9FFF:
                kanji.add(ord(char))
    return sorted(kanji)


SUBSETS = {
    "NotoSansKR": (
        "NotoSansKR-Hangul.ttf",
        [
            *SPACES,
            *range(0x1100, 0x1200),  # jamo
            *range(0x3130, 0x3190),  # compatibility jamo
            *range(0xA960, 0xA980),
            *range(0xAC00, 0xD7A4),  # the 11,172 syllables
            *range(0xD7B0, 0xD800),
        ],
    ),
    "NotoSansJP": (
        "NotoSansJP-KanaKanji.ttf",
        [
            *SPACES,
            *range(0x3040, 0x3100),  # hiragana, katakana
            *range(0x31F0, 0x3200),
            *range(0xFF65, 0xFFA0),  # half-width katakana
            0x3005,  # 々
            0x3006,
            0x3007,
            *_jis_x_0208_kanji(),
        ],
    ),
    "NotoSansArabic": (
        "NotoSansArabic-Regular.ttf",
        [
            *SPACES,
            *range(0x0600, 0x0700),
            *range(0x0750, 0x0780),
            *range(0x08A0, 0x0900),
            *range(0xFB50, 0xFE00),  # presentation forms A
            *range(0xFE70, 0xFF00),  # presentation forms B: the joined letters drawn
        ],
    ),
}


def make_subset(source: Path) -> Path:
    family = next(name for name in SUBSETS if source.name.startswith(name + "_"))
    target, unicodes = SUBSETS[family]
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True
    font = TTFont(source, recalcTimestamp=False)  # the same bytes on every run
    covered = font.getBestCmap()
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[code for code in unicodes if code in covered])
    subsetter.subset(font)
    font.save(HERE / target)
    return HERE / target


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(make_subset(Path(argument)))
