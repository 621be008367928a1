"""
The returning resident on a 360 px phone: back from a trip abroad in three screens, and a
move into the other demo station's area whose officer sees the photos carried over.
"""

import datetime
import re

import pytest
from django.utils import timezone

from registration.constants import AmendmentKind
from registration.models import Registration
from tests.browser.conftest import screenshot
from tests.browser.steps import (
    assert_public_page_fits,
    click_and_wait,
    fill_form,
    jpeg_file,
    links_in_last_email,
    live_url,
    registration_submitted_through_the_form,
    staff_login,
)
from tests.stations.factories import StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "zh-hans"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_back_from_a_trip_in_three_screens(open_page, live_server, station, tmp_path, language):
    old = registration_submitted_through_the_form(station, language)
    link = links_in_last_email("registration/r")[0]
    page, traffic = open_page(language)
    screens = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and screens.append(frame.url))

    page.goto(live_url(live_server, link))  # screen 1: the private page
    click_and_wait(page, page.locator("a[href$='/back/']"))  # screen 2: the form
    assert_public_page_fits(page)
    fill_form(
        page,
        {
            "entry_date": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
            "arrival_at": (timezone.localtime() - datetime.timedelta(hours=2)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "address_unchanged": "on",
        },
        scope="main form",
    )
    page.locator('main form [name="entry_stamp"]').set_input_files(
        jpeg_file(tmp_path, "stamp.jpg", "teal")
    )
    screenshot(page, f"returning-back-form-{language}")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/registration/receipt/$"))  # screen 3: the receipt
    new = Registration.objects.get(previous=old)
    assert new.reference in page.locator("main").inner_text()
    assert new.amendments.first().kind == AmendmentKind.REENTRY
    assert {d.kind for d in new.documents.all()} == {"passport_page", "visa_page", "entry_stamp"}
    assert len(screens) <= 4  # the private page, the form, (its redirect), the receipt
    assert_public_page_fits(page)
    screenshot(page, f"returning-back-receipt-{language}")
    assert traffic.blocked == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_move_into_the_other_stations_area(
    open_page, live_server, station, other_station, browser, language
):
    other_officer = StaffUserFactory(station=other_station, email="other@example.org")
    old = registration_submitted_through_the_form(station, language)
    link = links_in_last_email("registration/r")[0]
    page, _traffic = open_page(language)
    page.goto(live_url(live_server, link))
    click_and_wait(page, page.locator("a[href$='/move/']"))
    assert page.locator("#id_station").input_value() == str(station.pk)  # preselected
    fill_form(
        page,
        {
            "station": str(other_station.pk),
            "address": "Linhe East Road 88, Room 1203",
            "arrival_at": (timezone.localtime() - datetime.timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "expected_departure": (timezone.localdate() + datetime.timedelta(days=150)).isoformat(),
            "consent": "on",
        },
        scope="main form",
    )
    assert_public_page_fits(page)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/registration/receipt/$"))
    new = Registration.objects.get(previous=old)
    assert new.station == other_station

    # The new station's officer sees it, with the photos carried over.
    staff = browser.new_context(viewport={"width": 1366, "height": 900})
    desk = staff.new_page()
    path = f"/admin/registration/registration/{new.pk}/change/"
    staff_login(desk, live_server, other_officer, next_path=path)
    photos = desk.locator(".linli-admin-photos img")
    assert photos.count() == 3
    # Lazy images load once scrolled to; a loaded image has a width, a broken one never does.
    for i in range(3):
        photos.nth(i).scroll_into_view_if_needed()
    desk.wait_for_function(
        "() => [...document.querySelectorAll('.linli-admin-photos img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=15_000,
    )
    screenshot(desk, f"returning-move-officer-{language}")
    staff.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_staying_longer(open_page, live_server, station, language):
    registration = registration_submitted_through_the_form(station, language)
    link = links_in_last_email("registration/r")[0]
    page, _traffic = open_page(language)
    page.goto(live_url(live_server, link))
    click_and_wait(page, page.locator("a[href$='/stay/']"))
    assert_public_page_fits(page)
    too_late = registration.visa_valid_until + datetime.timedelta(days=1)
    fill_form(page, {"expected_departure": too_late.isoformat()}, scope="main form")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert page.locator("#id_expected_departure").input_value() == too_late.isoformat()
    assert page.locator(".invalid-feedback, .errorlist").count() >= 1
    later = registration.visa_valid_until - datetime.timedelta(days=1)
    fill_form(page, {"expected_departure": later.isoformat()}, scope="main form")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    registration.refresh_from_db()
    assert registration.expected_departure == later
    assert page.locator(".alert-success").is_visible()
    screenshot(page, f"returning-stay-longer-{language}")
