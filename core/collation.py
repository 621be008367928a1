"""
Sort keys for lists residents read (the nationality list), in the order of their language.

Python sorts by code point, which is right for none of our languages: "Égypte" after
"Zambie", Chinese by radical, kana and kanji mixed. ICU (PyICU) collates properly but needs
the C++ library and a compiler on every machine; this is a small fallback that is good
enough for names of countries:

- **Latin, Cyrillic, Greek**: accents and case are secondary ("Égypte" sorts with the E's,
  before "Espagne"); Russian "ё" sorts as "е" (its usual dictionary order).
- **Arabic**: vowel marks and tatweel are ignored, alef with hamza or madda sorts as alef;
  the letters' code points are in alphabetical order.
- **Korean**: Hangul syllables' code points are in dictionary order.
- **Chinese** (``zh-*``): the GB 18030 encoding lists the 3,755 common characters of
  GB 2312 in pinyin order, so its bytes sort 阿富汗 (ā) before 巴西 (bā) before 中国 (zhōng).
- **Japanese**: the EUC-JP encoding lists kana in gojūon order and the 2,965 level-one kanji
  by reading; names in kana come before names in kanji, as in ICU's Japanese order.

Other languages get the Latin/Cyrillic rules, which suit most alphabets.
"""

import unicodedata

_ARABIC_MARKS = {*range(0x064B, 0x0660), 0x0670, 0x0640}  # harakat, superscript alef, tatweel
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ё": "е", "Ё": "Е"})


def _accents_are_secondary(char: str) -> bool:
    # Latin and Greek letters: é, ç, ά sort with e, c, α. Cyrillic keeps its marks (й is a
    # letter of its own), and so do the other scripts.
    return ord(char) < 0x0250 or 0x1E00 <= ord(char) <= 0x1EFF or 0x0370 <= ord(char) <= 0x03FF


def _primary(text: str) -> str:
    """Return ``text`` as its base letters: no case, no Latin accents, no Arabic vowels."""
    kept = []
    for char in text.translate(_FOLD):
        if ord(char) in _ARABIC_MARKS:
            continue
        decomposed = unicodedata.normalize("NFD", char)
        kept.append(decomposed[0] if _accents_are_secondary(decomposed[0]) else char)
    return "".join(kept).casefold()


def _encoded(text: str, encoding: str) -> bytes:
    """Return ``text`` in ``encoding``, characters it lacks after every one it has."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode(encoding)
        except UnicodeEncodeError:
            out += b"\xff\xff" + ord(char).to_bytes(4, "big")
    return bytes(out)


def collation_key(text: str, language: str) -> tuple:
    """Return a key that sorts ``text`` as a reader of ``language`` expects."""
    text = text.strip()  # a catalogue's stray leading space must not sort a name first
    base = language.lower().split("-")[0]
    if base == "zh":
        return (_encoded(text, "gb18030"), text)
    if base == "ja":
        kana = unicodedata.normalize("NFKC", text)  # half-width katakana to full width
        return (_encoded(kana, "euc_jp"), text)
    return (_primary(text), text.casefold(), text)
