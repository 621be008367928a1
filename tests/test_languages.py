"""
Every resident's language: chosen from the browser, switchable and remembered on every page,
right to left where the language is, with country names, dates and numbers in it.
Nothing here lists the languages: each test runs over settings.LANGUAGES.
"""

import datetime
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import override_settings
from django.utils import formats, translation
from django.utils.translation import to_locale

from core.collation import collation_key
from core.languages import language_codes, language_is_bidi, language_menu
from inquiries.constants import Category, ContactMethod, ContactTime, Urgency
from inquiries.services import inquiry_submit
from notifications.rendering import message_render
from registration.forms import _country_choices
from tests.notifications.factories import MessageFactory
from tests.registration.factories import RegistrationFactory, ResidentFactory
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
LINLI_APPS = ["stations", "privacy", "notifications", "registration", "inquiries", "workspace"]
# What a phone in each language sends (language, then region variants and English).
ACCEPT = {
    "en": "en-GB,en;q=0.9",
    "zh-hans": "zh-CN,zh;q=0.9",
    "ko": "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7",
    "ja": "ja-JP,ja;q=0.9,en;q=0.8",
    "ru": "ru-RU,ru;q=0.9,en;q=0.8",
    "fr": "fr-FR,fr;q=0.9,en;q=0.8",
    "ar": "ar-EG,ar;q=0.9,en;q=0.8",
}


def _accept(code: str) -> str:
    return ACCEPT.get(code, f"{code};q=1.0")


class _Menu(HTMLParser):
    """The language menu's links: their language (hreflang), href, lang, dir, and text."""

    def __init__(self):
        super().__init__()
        self.items: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("hreflang") and "/language/" in attrs.get("href", ""):
            self._current = {**attrs, "value": attrs["hreflang"], "text": ""}

    def handle_data(self, data):
        if self._current is not None:
            self._current["text"] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._current is not None:
            self._current["text"] = self._current["text"].strip()
            self.items.append(self._current)
            self._current = None


def _menu(html: str) -> list[dict]:
    parser = _Menu()
    parser.feed(html)
    return parser.items


@pytest.mark.parametrize("language", language_codes())
def test_the_browser_language_picks_the_page_language(client, station, language):
    response = client.get(f"/s/{station.code}/", HTTP_ACCEPT_LANGUAGE=_accept(language))
    assert response.status_code == 200
    direction = "rtl" if language_is_bidi(language) else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in response.text


def test_a_korean_phone_gets_the_station_page_and_form_in_korean(client, station):
    page = client.get(f"/s/{station.code}/", HTTP_ACCEPT_LANGUAGE=ACCEPT["ko"])
    assert page.status_code == 200
    assert '<html lang="ko" dir="ltr">' in page.text
    assert "숙박 등록" in page.text
    form = client.get(f"/s/{station.code}/register/", HTTP_ACCEPT_LANGUAGE=ACCEPT["ko"])
    assert form.status_code == 200
    assert '<html lang="ko"' in form.text
    assert "여권" in form.text  # passport, from the glossary


def test_the_menu_names_every_language_in_itself_with_its_lang_and_dir(client, station):
    response = client.get(f"/s/{station.code}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    items = {item["value"]: item for item in _menu(response.text)}
    assert list(items) == language_codes()
    for entry in language_menu():
        item = items[entry["code"]]
        assert item["lang"] == entry["code"]
        assert item["dir"] == ("rtl" if language_is_bidi(entry["code"]) else "ltr")
        assert item["text"] == entry["name_local"]
    names = {code: item["text"] for code, item in items.items()}
    assert names["ko"] == "한국어"
    assert names["ja"] == "日本語"
    assert names["ru"] == "Русский"
    assert names["fr"] == "Français"
    assert names["ar"].replace("\u0651", "") == "العربية"  # Django's name carries a shadda
    assert items["ar"]["dir"] == "rtl"
    # The current language is marked, and the menu opens without JavaScript.
    assert items["en"].get("aria-current") == "true"
    assert "<details" in response.text and "<script" not in response.text
    # Plain links, no form: the page carries no CSRF token.
    assert "<form" not in response.text and "csrfmiddlewaretoken" not in response.text


def test_a_language_picked_in_the_menu_is_remembered_over_the_browser_language(client, station):
    form = client.get(f"/s/{station.code}/register/?step=1", HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200
    link = {item["value"]: item["href"] for item in _menu(form.text)}["ko"]
    response = client.get(html.unescape(link))
    assert response.status_code == 302
    assert response["Location"] == f"/s/{station.code}/register/?step=1"  # back to the page
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"
    assert (
        response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == settings.LANGUAGE_COOKIE_AGE
    )
    for path in (f"/s/{station.code}/", f"/s/{station.code}/register/"):
        page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        assert '<html lang="ko"' in page.text


def test_a_forged_language_code_sets_nothing(client, station):
    response = client.get("/language/xx%3Cscript%3E/", {"next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert '<html lang="en" dir="ltr">' in page.text


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/s/shipai/",
        "//evil.example/",
        "/\\evil.example/",
        "http://testserver/",  # this host, but downgraded from https
        "javascript:alert(1)",
        "",
    ],
)
def test_the_language_link_never_redirects_to_another_site(client, next_url):
    response = client.get("/language/fr/", {"next": next_url}, secure=True)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def test_the_language_link_is_never_cached_and_refuses_posts(client):
    response = client.get("/language/fr/", {"next": "/privacy/"})
    assert response["Location"] == "/privacy/"
    assert "no-store" in response["Cache-Control"]
    assert client.post("/language/fr/", {"next": "/"}).status_code == 405


def test_arabic_pages_are_right_to_left_with_bootstrap_rtl_served_locally(client, station):
    for path in (f"/s/{station.code}/", f"/s/{station.code}/register/", "/no-such-page/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=ACCEPT["ar"])
        assert response.status_code in (200, 404)
        assert '<html lang="ar" dir="rtl">' in response.text
        assert "/static/vendor/bootstrap/bootstrap.rtl.min.css" in response.text
        assert "bootstrap.min.css" not in response.text
        # Nothing loaded from another host (the share card's og: tags name absolute URLs).
        head = response.text.split("<body")[0]
        assert "//cdn" not in response.text
        assert not re.search(r'<(?:link|script)\b[^>]*\b(?:href|src)="(?:https?:)?//', head)
    english = client.get(f"/s/{station.code}/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "bootstrap.min.css" in english and "bootstrap.rtl.min.css" not in english


def test_the_rtl_stylesheet_is_the_same_bootstrap_version_as_the_ltr_one():
    ltr = Path(finders.find("vendor/bootstrap/bootstrap.min.css")).read_text()
    rtl = Path(finders.find("vendor/bootstrap/bootstrap.rtl.min.css")).read_text()
    version = re.search(r"Bootstrap\s+v(\d+\.\d+\.\d+)", ltr).group(1)
    assert version == "5.3.9"
    assert f"Bootstrap  v{version}" in rtl or f"Bootstrap v{version}" in rtl
    assert ".ms-1{margin-right:.25rem!important}" in rtl  # mirrored: start is the right
    # Its source map is there too (collectstatic's manifest storage follows the comment).
    assert finders.find("vendor/bootstrap/bootstrap.rtl.min.css.map")


def test_the_project_css_uses_logical_sides_only():
    for path in (BASE_DIR / "static" / "css").glob("*.css"):
        css = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
        assert not re.search(r"(?<![-\w])(left|right)\s*:", css), path
        assert not re.search(r"(margin|padding|border)-(left|right)", css), path
        assert not re.search(r"text-align\s*:\s*(left|right)", css), path


def test_references_phone_numbers_and_back_arrows_keep_their_direction_in_arabic():
    css = (BASE_DIR / "static" / "css" / "linli.css").read_text()
    rule = re.search(r"([^}]*)\{\s*direction: ltr; unicode-bidi: isolate;\s*\}", css)
    assert rule
    for selector in (".font-monospace", 'a[href^="tel:"]', 'input[type="tel"]', ".linli-ltr"):
        assert selector in rule.group(1)
    assert re.search(r'\[dir="rtl"\] \.linli-flip \{[^}]*scaleX\(-1\)', css)


def test_arabic_confirmation_email_is_right_to_left():
    rendered = message_render(
        MessageFactory.build(
            template="registration/confirmation",
            language="ar",
            context={"reference": "SH-1", "secret_link": "https://x/r/1/"},
        )
    )
    assert '<html lang="ar" dir="rtl">' in rendered.html


def test_adding_a_language_needs_no_migration():
    with override_settings(LANGUAGES=[*settings.LANGUAGES, ("de", "German")]):
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize("language", [code for code in language_codes() if code != "en"])
def test_every_language_has_every_catalogue(language):
    """Adding a language to LANGUAGES without its catalogues fails here, not in production."""
    locale = to_locale(language)
    places = [BASE_DIR / "locale", *(BASE_DIR / app / "locale" for app in LINLI_APPS)]
    missing = [
        str(place.relative_to(BASE_DIR))
        for place in places
        if not (place / locale / "LC_MESSAGES" / "django.po").exists()
    ]
    assert missing == [], f"{language}: no catalogue in {missing}"


# ------------------------------------------------------------------------------
# Country names, dates and numbers
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("language", language_codes())
def test_the_nationality_list_is_in_the_residents_language_and_sorted_for_it(language):
    with translation.override(language):
        choices = _country_choices()[1:]
        names = [str(name) for _code, name in choices]
        korea = str(dict(choices)["KR"])
    assert names == sorted(names, key=lambda name: collation_key(name, language))
    if language != "en":
        with translation.override("en"):
            assert korea != str(dict(_country_choices())["KR"])  # translated


@pytest.mark.parametrize(
    ("language", "before", "after"),
    [
        ("fr", "Égypte", "Espagne"),  # accents are secondary
        ("fr", "Afghanistan", "Zimbabwe"),
        ("ru", "Австралия", "Япония"),
        ("ru", "Ёлка", "Ель"),  # ё sorts as е, then by the dots
        ("ko", "가나", "한국"),
        ("ko", "그리스", "나이지리아"),
        ("ja", "アイスランド", "イギリス"),  # kana in gojūon order
        ("ja", "フランス", "中国"),  # names in kana, then in kanji
        ("zh-hans", "阿富汗", "巴西"),  # pinyin: ā before bā
        ("zh-hans", "法国", "中国"),  # fǎ before zhōng
        ("zh-hans", "英国", "越南"),  # yīng before yuè
        ("ar", "أفغانستان", "باكستان"),  # alef with hamza is alef
        ("ar", "الأردن", "تونس"),
    ],
)
def test_collation_puts_names_where_a_reader_looks_for_them(language, before, after):
    assert collation_key(before, language) < collation_key(after, language)


@pytest.mark.parametrize(
    ("language", "date", "number"),
    [
        ("ko", "2026년 11월 25일", "1,234.5"),
        ("ja", "2026年11月25日", "1,234.5"),
        ("ru", "25 ноября 2026 г.", "1\xa0234,5"),
        ("fr", "25 novembre 2026", "1\xa0234,5"),
        ("ar", "25 نوفمبر، 2026", "1234,5"),
        ("zh-hans", "2026年11月25日", "1234.5"),
    ],
)
def test_dates_and_numbers_follow_the_language(language, date, number):
    if language not in language_codes():
        pytest.skip(f"{language} is not a site language")
    with translation.override(language):
        assert formats.date_format(datetime.date(2026, 11, 25)) == date
        assert formats.number_format(1234.5, decimal_pos=1, force_grouping=True) == number


# ------------------------------------------------------------------------------
# Staff see which language each resident reads
# ------------------------------------------------------------------------------
def test_staff_see_and_filter_the_language_each_resident_reads(client, station):
    RegistrationFactory(station=station, resident=ResidentFactory(preferred_language="ko"))
    RegistrationFactory(station=station, resident=ResidentFactory(preferred_language="ar"))
    client.force_login(StaffUserFactory(station=station))
    changelist = "/admin/registration/registration/"
    page = client.get(changelist, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert page.status_code == 200
    assert "韩语" in page.text and "阿拉伯语" in page.text  # named in the officer's language
    korean = client.get(f"{changelist}?resident__preferred_language__exact=ko")
    assert korean.status_code == 200
    assert korean.context["cl"].result_count == 1


def test_a_case_shows_the_language_its_replies_go_out_in(client, station):
    inquiry_submit(
        station=station,
        category=Category.HOUSING,
        subject="집주인이 보증금을 돌려주지 않아요",
        description="한 달 전에 이사했는데 보증금을 아직 못 받았어요.",
        urgency=Urgency.NORMAL,
        contact_name="Kim Minji",
        contact_method=ContactMethod.EMAIL,
        contact_time=ContactTime.ANY,
        language="ko",
        email="minji@example.org",
    )
    client.force_login(StaffUserFactory(station=station))
    page = client.get("/admin/inquiries/inquiry/?language__exact=ko", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    assert '<td class="field-language">Korean</td>' in page.text
