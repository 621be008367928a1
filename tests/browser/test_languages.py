"""
The resident's own language on a 360 px phone, as the phone itself asks for it: a Korean
phone gets the station page and the registration form in Korean without touching anything;
an Arabic one gets them mirrored, right to left, with numbers still left to right. Both fit
the screen (no sideways scroll, the language menu open or closed) and pass axe-core.
"""

import re

import pytest
from django.conf import settings

from tests.browser.conftest import screenshot
from tests.browser.steps import assert_accessible, assert_public_page_fits, click_and_wait
from tests.stations.factories import StationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KOREAN_NAME = "스파이 거리 외국인 서비스센터"
ARABIC_NAME = "مركز خدمة الأجانب في شارع شيباي"
PHONE = "+86 20 8765 4321"
VIEWPORT_WIDTH = 360


@pytest.fixture
def station(station):
    """Shipai, with its name and address also in Korean and Arabic, and a full phone number."""
    StationFactory(
        code=station.code,
        texts={
            "ko": {"name": KOREAN_NAME, "address": "광저우시 톈허구 스파이가 12"},
            "ar": {"name": ARABIC_NAME, "address": "شارع شيباي 12، منطقة تيانخه، قوانغتشو"},
        },
    )
    station.phone = PHONE
    station.save()
    return station


def _language_menu_fits(page, name: str) -> None:
    """Open the language menu: every language is there, on screen, and nothing scrolls."""
    summary = page.locator(".linli-language-menu > summary")
    summary.click()
    buttons = page.locator(".linli-language-list a[hreflang]")
    assert buttons.count() == len(settings.LANGUAGES)
    for index in range(buttons.count()):
        button = buttons.nth(index)
        assert button.is_visible()
        assert button.get_attribute("lang") and button.get_attribute("dir") in ("ltr", "rtl")
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORT_WIDTH, box
    assert_public_page_fits(page)
    screenshot(page, name)
    summary.click()  # closed again


def _direction(page, selector: str) -> str:
    return page.locator(selector).first.evaluate("e => getComputedStyle(e).direction")


def test_a_korean_phone_gets_the_station_page_and_the_form_in_korean(
    open_page, live_server, station
):
    page, traffic = open_page("ko")  # the phone's language: ko-KR, nothing chosen on the site
    response = page.goto(f"{live_server.url}/s/{station.code}/")
    assert response.ok
    html = page.locator("html")
    assert html.get_attribute("lang") == "ko"
    assert html.get_attribute("dir") == "ltr"
    assert page.locator("h1").inner_text() == KOREAN_NAME
    register = page.locator(f"a[href='/s/{station.code}/register/']")
    assert "숙박 등록" in register.inner_text()
    assert_public_page_fits(page)
    assert_accessible(page)
    _language_menu_fits(page, "language-menu-ko")
    screenshot(page, "station-ko")

    click_and_wait(page, register)
    assert page.locator("html").get_attribute("lang") == "ko"
    form = page.locator("form.linli-registration-form")
    assert form.is_visible()
    assert "여권" in form.inner_text()  # passport
    # Country names in Korean, in Korean dictionary order: Ghana (가나) first.
    nationality = page.locator("select[name=nationality] option")
    assert nationality.nth(1).inner_text() == "가나"
    assert_public_page_fits(page)
    assert_accessible(page)
    screenshot(page, "register-ko")

    click_and_wait(page, form.locator("button[type=submit]"))  # every error at once
    assert page.locator(".is-invalid").count() > 5
    assert_public_page_fits(page)
    assert_accessible(page)
    assert traffic.blocked == []


def test_an_arabic_phone_gets_mirrored_pages_that_fit_and_pass_axe(open_page, live_server, station):
    page, traffic = open_page("ar")
    response = page.goto(f"{live_server.url}/s/{station.code}/")
    assert response.ok
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar"
    assert html.get_attribute("dir") == "rtl"
    sheets = page.evaluate("() => [...document.styleSheets].map(s => s.href || '')")
    assert any(sheet.endswith("/static/vendor/bootstrap/bootstrap.rtl.min.css") for sheet in sheets)
    assert not any(sheet.endswith("/bootstrap.min.css") for sheet in sheets)
    assert page.locator("h1").inner_text() == ARABIC_NAME

    # Mirrored: the brand starts on the right, the language menu sits on the left.
    brand = page.locator(".linli-brand").bounding_box()
    menu = page.locator(".linli-language-menu > summary").bounding_box()
    assert brand["x"] + brand["width"] > VIEWPORT_WIDTH - 40
    assert menu["x"] < brand["x"]
    # The phone number reads left to right inside the right-to-left page.
    phone = page.locator("a[href^='tel:']").filter(has_text="8765")
    assert phone.inner_text() == PHONE
    assert _direction(page, "a[href^='tel:']") == "ltr"
    assert_public_page_fits(page)
    assert_accessible(page)
    _language_menu_fits(page, "language-menu-ar")
    screenshot(page, "station-ar")

    click_and_wait(page, page.locator(f"a[href='/s/{station.code}/register/']"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    form = page.locator("form.linli-registration-form")
    assert form.is_visible()
    assert _direction(page, "form.linli-registration-form") == "rtl"
    assert _direction(page, "input[type=tel]") == "ltr"
    assert _direction(page, "input[type=date]") == "ltr"
    # Country names in Arabic, sorted by Arabic letters (alef first).
    first_country = page.locator("select[name=nationality] option").nth(1).inner_text()
    assert re.match(r"^[\u0621-\u064a]", first_country), first_country
    assert_public_page_fits(page)
    assert_accessible(page)
    screenshot(page, "register-ar")

    click_and_wait(page, form.locator("button[type=submit]"))  # every error at once
    assert page.locator(".is-invalid").count() > 5
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert_public_page_fits(page)
    assert_accessible(page)
    assert traffic.blocked == []
