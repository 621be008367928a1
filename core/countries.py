"""
Country names in Simplified Chinese, corrected where django-countries' catalogue is wrong.

The library's zh_Hans catalogue misspells some names (尼珀尔 for Nepal, 塔吉克斯斯坦),
gives others to the wrong country (Samoa shown as 美属萨摩亚群岛, the name of American
Samoa; 多米尼加, the Dominican Republic, for Dominica), cuts one short (波斯尼亚和黑塞哥维),
keeps names a country dropped (马其顿, 科摩罗伊斯兰联邦共和国), has a name starting with a
space (sorted before all others) and leaves Nauru to an English fallback ("Naoero" has no
Chinese entry). ``ZH_HANS_NAMES`` below holds the right names, checked against the CLDR
(Unicode's locale data, shipped in the ``babel`` package): tests/core/test_countries.py
compares every country's Chinese name with CLDR and fails on any difference that is
neither corrected here nor listed in ``ZH_HANS_KEPT`` with its reason.

How: the library's documented ``COUNTRIES_OVERRIDE`` setting maps each corrected code to
a lazy name (``country_name_overrides``). While Simplified Chinese is active it is our
name; in every other language it is exactly what the library itself says, with its own
catalogues and fallbacks. So:

- the fix lives here only, and does not depend on the library's catalogue: an upgrade
  that fixes a name makes our entry redundant, never wrong; one that breaks another name
  is caught by the CLDR check;
- other languages keep following the library's catalogues as it improves them. Giving
  ``COUNTRIES_OVERRIDE`` translatable names (``_("Nepal")``) instead would have meant
  copying the library's name of each corrected country into all seven of our
  catalogues, frozen at today's version.
"""

from django.utils.functional import lazy
from django.utils.translation import get_language

# What CLDR calls the country, in the short form used for every other country.
ZH_HANS_NAMES = {
    # Wrong: a misspelling, another country's name, cut short, a stray space, missing.
    "AS": "美属萨摩亚",  # the library gives it the same name as Samoa
    "BA": "波斯尼亚和黑塞哥维那",  # cut short: 波斯尼亚和黑塞哥维
    "BW": "博茨瓦纳",  # misspelt 博兹瓦纳
    "DM": "多米尼克",  # 多米尼加 is the Dominican Republic (DO)
    "GF": "法属圭亚那",  # misspelt 法属奎亚那
    "NP": "尼泊尔",  # misspelt 尼珀尔
    "NR": "瑙鲁",  # the English name "Naoero" has no Chinese entry upstream
    "SJ": "斯瓦尔巴和扬马延",  # " 斯瓦尔巴群岛和扬马延岛": its leading space sorts it first
    "TJ": "塔吉克斯坦",  # misspelt 塔吉克斯斯坦
    "WS": "萨摩亚",  # shown as 美属萨摩亚群岛, which is American Samoa (AS)
    # Outdated or incomplete.
    "KG": "吉尔吉斯斯坦",  # 吉尔吉斯
    "KM": "科摩罗",  # 科摩罗伊斯兰联邦共和国, its name until 2001
    "MK": "北马其顿",  # 马其顿, its name until 2019
    # Long official forms or geography where every other country has its short name.
    "AW": "阿鲁巴",  # 阿鲁巴岛
    "BS": "巴哈马",  # 巴哈马群岛
    "CD": "刚果（金）",  # 刚果民主共和国
    "CG": "刚果（布）",  # 刚果, which readers cannot tell from the other Congo
    "GP": "瓜德罗普",  # 瓜德罗普岛
    "LR": "利比里亚",  # 利比里亚共和国
    "ML": "马里",  # 马里共和国
    "RE": "留尼汪",  # 法属留尼汪岛
    "SR": "苏里南",  # 苏里南共和国
    "TK": "托克劳",  # 托克劳群岛
    "TT": "特立尼达和多巴哥",  # 特立尼达和多巴哥共和国
    "WF": "瓦利斯和富图纳",  # 瓦利斯群岛和富图纳群岛
    # Transliterations and punctuation that differ from the standard Chinese names.
    "BL": "圣巴泰勒米",  # 圣巴托洛缪岛
    "BQ": "荷属加勒比区",  # 荷属加勒比
    "CC": "科科斯（基林）群岛",  # ASCII parentheses in Chinese text
    "GG": "根西岛",  # 格恩西岛
    "GS": "南乔治亚和南桑威奇群岛",  # 南乔治亚岛和南桑威奇群岛
    "MP": "北马里亚纳群岛",  # 北马里亚那群岛
    "PM": "圣皮埃尔和密克隆群岛",  # 圣皮埃尔和密克隆
    "PN": "皮特凯恩群岛",  # 皮特开恩群岛
    "UM": "美国本土外小岛屿",  # 美属边疆群岛
}

# Where CLDR's Chinese name differs from the library's and the library's is kept, and why.
ZH_HANS_KEPT = {
    "FK": "马尔维纳斯群岛 is the name China's government uses (CLDR: 福克兰群岛).",
    "FM": "密克罗尼西亚联邦 is the state; CLDR's 密克罗尼西亚 also names the whole region.",
    "HK": "香港 is CLDR's own short form of 中国香港特别行政区, right for a list.",
    "MO": "澳门 is CLDR's own short form of 中国澳门特别行政区, right for a list.",
    "PS": "巴勒斯坦: China recognises the State of Palestine (CLDR: 巴勒斯坦领土).",
}

# Languages whose readers get ZH_HANS_NAMES: the site's, and the codes Django maps to it.
SIMPLIFIED_CHINESE = ("zh-hans", "zh-cn", "zh-sg", "zh-my")

_library = None


def library_countries():
    """Return django-countries' own country list, without our corrections."""
    global _library
    if _library is None:
        from django_countries import Countries  # not at settings time: settings import us

        class LibraryCountries(Countries):
            override = {}  # an instance option wins over COUNTRIES_OVERRIDE

        _library = LibraryCountries()
    return _library


def reads_simplified_chinese(language: str | None = None) -> bool:
    """Return whether ``language`` (by default the active one) is Simplified Chinese."""
    language = (language or get_language() or "").lower()
    return language in SIMPLIFIED_CHINESE


def country_name(code: str) -> str:
    """Return the name of country ``code`` in the active language, corrected in Chinese."""
    if reads_simplified_chinese() and code in ZH_HANS_NAMES:
        return ZH_HANS_NAMES[code]
    return library_countries().name(code)


_country_name_lazy = lazy(country_name, str)


def country_name_overrides() -> dict:
    """Return ``COUNTRIES_OVERRIDE``: a lazy name for each country corrected in Chinese."""
    return {code: _country_name_lazy(code) for code in ZH_HANS_NAMES}
