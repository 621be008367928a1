"""
A resident's phone registers a stay for real: the billboard's QR code, the form with one
mistake (photos kept), the review, the receipt; then the private link from the email.
"""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from registration.constants import RegistrationStatus
from registration.models import Registration
from tests.browser.conftest import screenshot
from tests.browser.steps import (
    assert_accessible,
    assert_public_page_fits,
    click_and_wait,
    fill_form,
    jpeg_file,
    links_in_last_email,
    live_url,
    qr_codes_in,
    registration_submitted_through_the_form,
)
from tests.registration.factories import form_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "zh-hans"]
NEW_ADDRESS = "Building 9, Room 1203, Tianhe North Road"


def _answers(language: str) -> dict:
    data = form_data(preferred_language=language)
    data.pop("website")  # the honeypot stays empty, as a person leaves it
    return data


@pytest.mark.parametrize("language", LANGUAGES)
def test_scan_the_billboard_and_register_a_stay_to_the_receipt(
    open_page, live_server, station, tmp_path, language
):
    page, traffic = open_page(language)

    # The billboard poster, fetched like any image, and its QR code read by a "camera".
    poster = page.goto(f"{live_server.url}/s/{station.code}/poster.png?purpose=register")
    assert poster.ok and poster.headers["content-type"] == "image/png"
    codes = qr_codes_in(poster.body())
    assert len(codes) == 1 and codes[0].endswith(f"/s/{station.code}/register/")

    # The register QR code leads straight to the form, in the phone's language.
    page.goto(live_url(live_server, codes[0]))
    assert page.locator("html").get_attribute("lang") == language
    form = page.locator("form.linli-registration-form")
    assert form.is_visible()

    # Every section filled, with one mistake: leaving before arriving.
    answers = _answers(language)
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    fill_form(page, {**answers, "expected_departure": yesterday})
    photos = {
        "passport_page": jpeg_file(tmp_path, "passport.jpg", "navy"),
        "visa_page": jpeg_file(tmp_path, "visa.jpg", "darkgreen"),
        "entry_stamp": jpeg_file(tmp_path, "stamp.jpg", "maroon"),
        "lease": jpeg_file(tmp_path, "lease.jpg", "gray"),
    }
    for kind, path in photos.items():
        page.set_input_files(f'input[type=file][name="{kind}"]', str(path))
    click_and_wait(page, form.locator("button[type=submit]"))

    # The error sits next to the field, what was typed is kept, and so are the photos.
    departure = page.locator("#id_expected_departure")
    assert departure.get_attribute("aria-invalid") == "true"
    error = page.locator("#div_id_expected_departure .invalid-feedback")
    assert error.is_visible() and error.inner_text().strip()
    assert page.locator("#form-errors a[href='#id_expected_departure']").is_visible()
    assert page.locator("#id_surname").input_value() == "Diallo"
    thumbnails = page.locator(".linli-photo-field img.linli-thumb")
    assert thumbnails.count() == len(photos)
    assert all(
        thumbnails.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
        for i in range(thumbnails.count())
    )
    assert_public_page_fits(page)
    assert_accessible(page)
    screenshot(page, f"1-register-error-{language}")

    # Fixed without choosing the photos again; the review lists them.
    fill_form(page, {"expected_departure": answers["expected_departure"]})
    click_and_wait(page, form.locator("button[type=submit]"))
    assert page.locator("button[name=step][value=submit]").is_visible()
    assert page.locator("img.linli-thumb").count() == len(photos)
    assert_public_page_fits(page)
    assert not Registration.objects.exists()

    # Sent: the receipt with the reference, the deadline and the private link.
    page.locator("button[name=step][value=submit]").click()
    page.wait_for_url(re.compile(r"/registration/receipt/$"))
    registration = Registration.objects.get()
    assert registration.status == RegistrationStatus.SUBMITTED
    assert registration.documents.count() == len(photos)
    assert registration.resident.preferred_language == language
    assert page.locator("html").get_attribute("lang") == language
    assert registration.reference in page.locator(".alert-success").inner_text()
    deadline = page.locator("section[aria-labelledby=deadline-title]")
    assert re.search(r"\d", deadline.inner_text())  # the deadline and the hours left
    assert page.locator("section[aria-labelledby=link-title] a").get_attribute("href")
    assert page.locator(".linli-qr svg").is_visible()
    assert_public_page_fits(page)
    assert_accessible(page)
    screenshot(page, f"1-register-receipt-{language}")
    assert traffic.blocked == []
    # The confirmation went out in the resident's language, with the same link.
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_private_link_from_the_email_updates_the_address(open_page, live_server, station, language):
    old = registration_submitted_through_the_form(station, language)
    links = links_in_last_email("registration/r")
    assert len(set(links)) == 1
    page, traffic = open_page(language)

    # The link in the confirmation email opens the resident's own page.
    page.goto(live_url(live_server, links[0]))
    assert page.locator("html").get_attribute("lang") == language
    assert old.reference in page.locator("main").inner_text()
    assert page.locator(".linli-status-submitted").is_visible()
    assert_public_page_fits(page)

    # A new address: the form is pre-filled with what stays the same.
    page.locator("a[href$='/move/']").click()
    page.wait_for_url(re.compile(r"/move/$"))
    assert page.locator("#id_host_name").input_value() == "Wang Fang"
    arrival = timezone.localtime() - datetime.timedelta(hours=1)
    fill_form(
        page,
        {
            "address": NEW_ADDRESS,
            "arrival_at": arrival.strftime("%Y-%m-%dT%H:%M"),
            "expected_departure": (timezone.localdate() + datetime.timedelta(days=150)).isoformat(),
            "consent": "on",
        },
        scope="main form",
    )
    assert_public_page_fits(page)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/registration/receipt/$"))
    new = Registration.objects.exclude(pk=old.pk).get()
    assert new.address == NEW_ADDRESS and new.previous == old
    assert new.reference in page.locator(".alert-success").inner_text()

    # Back through the same link: the new registration, waiting for the station.
    page.goto(live_url(live_server, links[0]))
    main = page.locator("main").inner_text()
    assert new.reference in main and NEW_ADDRESS in main
    assert page.locator(".linli-status-submitted").is_visible()
    old.refresh_from_db()
    assert old.status == RegistrationStatus.ENDED
    assert_public_page_fits(page)
    screenshot(page, f"2-update-address-{language}")
    assert traffic.blocked == []
