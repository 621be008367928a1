"""
Country names in Chinese: every one checked against CLDR, the wrong ones corrected, and
no other language touched (core.countries says how and why).
"""

import pytest
from babel import Locale
from django.conf import settings
from django.utils import translation
from django_countries import countries
from django_countries.fields import Country

from core.countries import ZH_HANS_KEPT, ZH_HANS_NAMES, library_countries

CLDR_ZH_HANS = Locale.parse("zh_Hans").territories
OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "zh-hans"]


def _names(country_list, language: str) -> dict[str, str]:
    with translation.override(language):
        return {code: str(name) for code, name in country_list}


def test_the_four_names_from_the_issue_are_right_in_chinese():
    with translation.override("zh-hans"):
        assert countries.name("NP") == "尼泊尔"
        assert countries.name("TJ") == "塔吉克斯坦"
        assert countries.name("WS") == "萨摩亚"
        assert countries.name("AS") == "美属萨摩亚"
        assert countries.name("NR") == "瑙鲁"
        assert Country("NP").name == "尼泊尔"  # what a registration's nationality shows


def test_every_chinese_name_is_cldrs_or_kept_with_a_reason():
    ours = _names(countries, "zh-hans")
    differences = {
        code: (name, CLDR_ZH_HANS.get(code))
        for code, name in ours.items()
        if name != CLDR_ZH_HANS.get(code) and code not in ZH_HANS_KEPT
    }
    assert differences == {}, "Chinese names that differ from CLDR (ours, CLDR's)"


def test_every_kept_name_still_differs_from_cldr_and_is_the_librarys():
    library = _names(library_countries(), "zh-hans")
    for code in ZH_HANS_KEPT:
        assert library[code] != CLDR_ZH_HANS[code], f"{code} agrees with CLDR now: drop it"
        assert code not in ZH_HANS_NAMES


def test_no_two_countries_share_a_chinese_name_and_none_has_stray_spaces():
    names = list(_names(countries, "zh-hans").values())
    assert len(names) == len(set(names))
    assert [name for name in names if name != name.strip()] == []


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_other_languages_keep_the_librarys_names(language):
    assert _names(countries, language) == _names(library_countries(), language)
    with translation.override(language):
        assert countries.name("NP") == library_countries().name("NP")


def test_the_country_list_forms_offer_has_every_country_once_with_the_right_names():
    with translation.override("zh-hans"):
        listed = list(countries)
    assert len(listed) == len({code for code, _name in listed}) == len(library_countries())
    assert dict(listed)["TJ"] == "塔吉克斯坦"
    assert dict(listed)["SJ"] == "斯瓦尔巴和扬马延"


def test_corrections_are_cldrs_names():
    # What the report upstream cites as the source.
    assert {code: CLDR_ZH_HANS[code] for code in ZH_HANS_NAMES} == ZH_HANS_NAMES
