"""
Public pages on a 360 px phone: the station page's weight and hosts, the check-in answer
page's accessibility, and no sideways scrolling anywhere a resident goes.
"""

import re

import pytest
from django.core import mail

from inquiries.models import CheckInAnswer
from inquiries.services import check_in_round_send
from tests.browser.conftest import screenshot
from tests.browser.steps import (
    assert_accessible,
    assert_public_page_fits,
    click_and_wait,
    fill_form,
    links_in_last_email,
    live_url,
)
from tests.inquiries.factories import CheckInRoundFactory, RegistrationFactory, ResidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "zh-hans"]
STATION_PAGE_BUDGET = 100 * 1024  # bytes, gzip-compressed, everything the first view loads


@pytest.mark.parametrize("language", LANGUAGES)
def test_station_page_first_view_is_light_local_and_accessible(
    open_page, live_server, station, language
):
    page, traffic = open_page(language)
    response = page.goto(f"{live_server.url}/s/{station.code}/", wait_until="networkidle")
    assert response.ok
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator(f"a[href='/s/{station.code}/register/']").is_visible()
    assert page.locator(f"a[href='/s/{station.code}/help/']").is_visible()

    # Nothing from another host: residents' networks may not reach one.
    assert traffic.blocked == []
    assert all(
        url.startswith((traffic.allowed_origin, "data:", "blob:")) for url in traffic.requests
    )
    print(f"station page, first view: {traffic.compressed_bytes} bytes gzip")
    # Everything the first view loads, compressed, within the budget.
    assert 0 < traffic.compressed_bytes <= STATION_PAGE_BUDGET, traffic.compressed_bytes
    assert_public_page_fits(page)
    assert_accessible(page)
    screenshot(page, f"station-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_check_in_answer_page_is_accessible_and_takes_an_answer(
    open_page, live_server, station, language
):
    RegistrationFactory(station=station, resident=ResidentFactory(preferred_language=language))
    check_in_round_send(round_id=CheckInRoundFactory(station=station).pk)
    links = links_in_last_email("check-in")
    assert len(links) == 1

    page, traffic = open_page(language)
    page.goto(live_url(live_server, links[0]))
    assert page.locator("html").get_attribute("lang") == language
    assert_public_page_fits(page)
    assert_accessible(page)
    form = page.locator("main form")
    fill_form(page, {"rating": "4", "wants_contact": "no"}, scope="main form")
    click_and_wait(page, form.locator("[type=submit]"))
    answer = CheckInAnswer.objects.get()
    assert answer.rating == 4 and not answer.wants_contact
    assert_public_page_fits(page)
    assert_accessible(page)
    screenshot(page, f"check-in-answered-{language}")
    assert traffic.blocked == []


PUBLIC_PATHS = [
    "/",
    "/s/{code}/",
    "/s/{code}/register/",
    "/s/{code}/help/",
    "/registration/update/",
    "/registration/lost-link/",
    "/privacy/",
    "/s/unknown-station/",
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages_never_scroll_sideways_on_a_360_px_phone(
    open_page, live_server, station, language
):
    page, traffic = open_page(language)
    for path in PUBLIC_PATHS:
        page.goto(live_server.url + path.format(code=station.code))
        assert page.locator("h1").count() >= 1, path
        assert_public_page_fits(page)
    # A form with every error shown is the widest a form gets.
    page.goto(f"{live_server.url}/s/{station.code}/register/")
    click_and_wait(page, page.locator("form.linli-registration-form button[type=submit]"))
    assert page.locator(".is-invalid").count() > 5
    assert_public_page_fits(page)
    page.goto(f"{live_server.url}/s/{station.code}/help/")
    click_and_wait(page, page.locator("form.linli-help-form button[type=submit]"))
    assert re.search(r"/help/$", page.url) and page.locator(".is-invalid").count() > 0
    assert_public_page_fits(page)
    assert_accessible(page)
    assert traffic.blocked == []
    assert mail.outbox == []
