"""
An officer reviews registrations for real: logs in, the dashboard's queue, the oldest
waiting registration, a document photo, "Mark registered"; another station's officer gets 404.
"""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from registration.constants import RegistrationStatus
from tests.browser.conftest import screenshot
from tests.browser.steps import (
    click_and_wait,
    registration_submitted_through_the_form,
    staff_login,
)
from tests.registration.factories import RegistrationFactory
from tests.stations.factories import StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAITING = {"en": "Registrations waiting for review", "zh-hans": "等待审核的住宿登记"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_officer_marks_the_oldest_waiting_registration_registered(
    open_page, live_server, station, other_station, language
):
    officer = StaffUserFactory(username="officer", station=station)
    intruder = StaffUserFactory(username="linhe-officer", station=other_station)
    oldest = registration_submitted_through_the_form(station, language)  # arrived 3 hours ago
    newer = RegistrationFactory(
        station=station, arrival_at=timezone.now() - datetime.timedelta(hours=1)
    )
    elsewhere = RegistrationFactory(
        station=other_station, arrival_at=timezone.now() - datetime.timedelta(hours=5)
    )
    assert oldest.deadline_at < newer.deadline_at
    mail.outbox = []

    # The officer logs in and lands on the dashboard: the queue, oldest first, own station only.
    page, traffic = open_page(language)
    staff_login(page, live_server, officer)
    queue = page.locator("section[aria-labelledby=linli-waiting]")
    assert queue.locator("h2").inner_text() == WAITING[language]
    rows = queue.locator("tbody tr")
    references = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    assert references == [oldest.reference, newer.reference]
    assert elsewhere.reference not in page.locator("#content").inner_text()

    # The oldest waiting registration, with its document photos.
    click_and_wait(page, rows.first.locator("a"))
    page.wait_for_url(re.compile(rf"/admin/registration/registration/{oldest.pk}/change/$"))
    photos = page.locator(".linli-admin-photos figure a")
    assert photos.count() == oldest.documents.count() == 3
    photo_url = photos.first.get_attribute("href")
    with page.context.expect_page() as opened:
        photos.first.click()  # opens in a new tab
    photo_tab = opened.value
    photo_tab.wait_for_load_state()
    assert photo_tab.evaluate("document.contentType").startswith("image/")
    assert photo_tab.evaluate("document.images[0].naturalWidth") > 0
    photo_tab.close()

    # Mark registered: a confirmation page, then the resident is told.
    click_and_wait(page, page.locator(".object-tools a[href$='/review/registered/']"))
    click_and_wait(page, page.locator("#content form input[type=submit]"))
    page.wait_for_url(re.compile(rf"/admin/registration/registration/{oldest.pk}/change/$"))
    assert page.locator("ul.messagelist li.success").is_visible()
    oldest.refresh_from_db()
    assert oldest.status == RegistrationStatus.REGISTERED and oldest.decided_by == officer
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [oldest.resident.email]
    screenshot(page, f"4-staff-review-registered-{language}")
    assert traffic.blocked == []

    # An officer of another station cannot open it, nor its photos.
    other, _ = open_page(language)
    staff_login(other, live_server, intruder)
    change = other.goto(f"{live_server.url}/admin/registration/registration/{oldest.pk}/change/")
    assert change.status == 404
    assert other.goto(live_server.url + photo_url).status == 404
    screenshot(other, f"4-staff-review-other-station-404-{language}")
