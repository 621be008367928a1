"""
Asking for help for real: a resident's phone sends a request; an officer at a desktop, in
Chinese, logs into the admin, assigns it and replies; the resident's private page shows it.
"""

import re

import pytest
from django.core import mail

from inquiries.constants import Status
from inquiries.models import Inquiry
from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.steps import (
    assert_accessible,
    assert_public_page_fits,
    click_and_wait,
    fill_form,
    staff_login,
)
from tests.stations.factories import StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": {
        "subject": "Landlord keeps my deposit",
        "description": "I moved out a month ago and the landlord does not return my deposit.",
        "reply": "We called your landlord; he will return the deposit on Friday.",
    },
    "zh-hans": {
        "subject": "房东不退押金",
        "description": "我一个月前搬走了，房东一直不退押金。",
        "reply": "我们已联系房东，他周五退还押金。",
    },
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_help_request_is_answered_by_staff_and_the_reply_reaches_the_private_page(
    open_page, live_server, station, language
):
    text = TEXTS[language]
    officer = StaffUserFactory(username="officer", station=station)

    # The resident opens the station's help form on their phone.
    page, traffic = open_page(language)
    page.goto(f"{live_server.url}/s/{station.code}/help/")
    assert page.locator("html").get_attribute("lang") == language
    form = page.locator("form.linli-help-form")
    assert form.is_visible()
    assert_public_page_fits(page)
    assert_accessible(page)
    fill_form(
        page,
        {
            "category": "housing",
            "urgency": "normal",
            "subject": text["subject"],
            "description": text["description"],
            "contact_name": "Amina Diallo",
            "contact_method": "email",
            "email": "amina@example.org",
            "contact_time": "any",
            "language": language,
        },
        scope="form.linli-help-form",
    )
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/h/[A-Za-z0-9_-]+/"))
    inquiry = Inquiry.objects.get()
    assert inquiry.language == language and inquiry.status == Status.NEW
    assert inquiry.reference in page.locator("main").inner_text()
    case_url = page.url.split("?")[0]
    assert_public_page_fits(page)
    assert_accessible(page)
    # The acknowledgement, with the same private link (the station's officers get an alert).
    resident_mail = [m for m in mail.outbox if m.to == ["amina@example.org"]]
    assert len(resident_mail) == 1

    # An officer at the station's desktop, in Chinese, through the real login form.
    desk, desk_traffic = open_page("zh-hans", device=DESKTOP)
    change_path = f"/admin/inquiries/inquiry/{inquiry.pk}/change/"
    staff_login(desk, live_server, officer, next_path=change_path)
    assert desk.locator("html").get_attribute("lang") == "zh-hans"
    assert text["subject"] in desk.locator("#content").inner_text()
    click_and_wait(desk, desk.locator("form.linli-inline-form button[type=submit]"))  # assign to me
    inquiry.refresh_from_db()
    assert inquiry.assigned_to == officer and inquiry.status == Status.ASSIGNED

    # A public reply, which waits for the resident's answer.
    desk.goto(live_server.url + change_path)
    fill_form(
        desk,
        {"entry_kind": "reply", "entry_body": text["reply"], "new_status": Status.WAITING},
        scope="#inquiry_form",
    )
    click_and_wait(desk, desk.locator("#inquiry_form [name=_continue]"))
    assert desk.locator(".messagelist .success, ul.messagelist li.success").count() >= 1
    inquiry.refresh_from_db()
    assert inquiry.status == Status.WAITING and inquiry.first_responded_at is not None
    screenshot(desk, f"3-help-staff-replied-{language}")
    resident_mail = [m for m in mail.outbox if m.to == ["amina@example.org"]]
    assert len(resident_mail) == 2 and text["reply"] in resident_mail[-1].body

    # The resident's private page shows the reply.
    page.goto(case_url)
    assert text["reply"] in page.locator("main").inner_text()
    assert_public_page_fits(page)
    screenshot(page, f"3-help-case-reply-{language}")
    assert traffic.blocked == [] and desk_traffic.blocked == []
