"""A help request end to end, in English and in Chinese, as resident and staff see it."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from inquiries.constants import Status
from inquiries.models import Inquiry

pytestmark = pytest.mark.django_db

TEXTS = {
    "en": {
        "accept": "en",
        "subject": "Landlord keeps my deposit",
        "description": "I moved out a month ago and the landlord does not return my deposit.",
        "form_title": "Ask for help",
        "received": "We have received your request",
        "reply": "We called your landlord; he will return the deposit on Friday.",
        "resident_reply": "Thank you, I will wait until Friday.",
        "mail_subject": "received your help request",
        "resolved_subject": "did we help?",
    },
    "zh-hans": {
        "accept": "zh-CN,zh;q=0.9",
        "subject": "房东不退押金",
        "description": "我一个月前搬走了，房东一直不退押金。",
        "form_title": "咨询求助",
        "received": "我们已收到您的求助",
        "reply": "我们已联系房东，他周五退还押金。",
        "resident_reply": "谢谢，我等到周五。",
        "mail_subject": "已收到",
        "resolved_subject": "帮到您了吗",
    },
}


def _admin_change(client, inquiry, **data):
    values = {
        "category": inquiry.category,
        "urgency": inquiry.urgency,
        "assigned_to": inquiry.assigned_to_id or "",
        "entry_kind": "reply",
        "reply_template": "",
        "entry_body": "",
        "new_status": "",
    }
    values.update(data)
    url = reverse("admin:inquiries_inquiry_change", args=[inquiry.pk])
    response = client.post(url, values)
    assert response.status_code == 302, response.content.decode()[:3000]
    inquiry.refresh_from_db()
    return response


def _link(message, path_prefix):
    match = re.search(rf"https://linli\.example\.org(/{path_prefix}/[A-Za-z0-9_-]+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_help_request_end_to_end(
    language, client, station, officer, django_capture_on_commit_callbacks
):
    text = TEXTS[language]
    resident = client.__class__()  # the resident's own browser
    staff = client
    staff.force_login(officer)
    mail.outbox = []

    # The resident opens the billboard's help link in their language and submits.
    form_page = resident.get("/s/shipai/help/", HTTP_ACCEPT_LANGUAGE=text["accept"])
    assert form_page.status_code == 200
    assert text["form_title"] in form_page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = resident.post(
            "/s/shipai/help/",
            {
                "category": "housing",
                "subject": text["subject"],
                "description": text["description"],
                "urgency": "normal",
                "contact_name": "Amina Diallo",
                "contact_method": "email",
                "email": "amina@example.org",
                "contact_time": "any",
                "language": language,
            },
            HTTP_ACCEPT_LANGUAGE=text["accept"],
        )
    assert response.status_code == 302
    case_path = response["Location"].split("?")[0]
    inquiry = Inquiry.objects.get()
    assert inquiry.language == language and inquiry.status == Status.NEW
    page = resident.get(response["Location"], HTTP_ACCEPT_LANGUAGE=text["accept"])
    assert text["received"] in page.text
    assert inquiry.reference in page.text
    assert case_path in page.text  # the private link is shown
    # The officer is alerted of the new case; the resident gets the confirmation.
    officer_alert = [m for m in mail.outbox if m.to == [officer.email]]
    assert len(officer_alert) == 1 and inquiry.reference in officer_alert[0].subject
    mail.outbox = [m for m in mail.outbox if m.to == ["amina@example.org"]]
    assert len(mail.outbox) == 1
    assert text["mail_subject"] in mail.outbox[0].subject
    assert _link(mail.outbox[0], "h") == case_path

    # Staff assign it to themselves, reply publicly and add an internal note.
    assign = staff.post(reverse("admin:inquiries_inquiry_assign_to_me", args=[inquiry.pk]))
    assert assign.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.assigned_to == officer and inquiry.status == Status.ASSIGNED
    with django_capture_on_commit_callbacks(execute=True):
        _admin_change(
            staff, inquiry, entry_kind="reply", entry_body=text["reply"], new_status=Status.WAITING
        )
        _admin_change(staff, inquiry, entry_kind="note", entry_body="NOTE-check the contract")
    assert inquiry.status == Status.WAITING
    assert inquiry.first_responded_at is not None
    assert len(mail.outbox) == 2
    assert text["reply"] in mail.outbox[1].body
    assert all("NOTE-" not in m.body for m in mail.outbox)

    # The resident sees the reply, never the note, and answers.
    page = resident.get(case_path, HTTP_ACCEPT_LANGUAGE=text["accept"])
    assert text["reply"] in page.text
    assert "NOTE-" not in page.text
    answer = resident.post(case_path, {"body": text["resident_reply"]})
    assert answer.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == Status.IN_PROGRESS
    assert text["resident_reply"] in resident.get(case_path).text
    staff_page = staff.get(reverse("admin:inquiries_inquiry_change", args=[inquiry.pk]))
    assert (
        text["resident_reply"] in staff_page.text and "NOTE-check the contract" in staff_page.text
    )

    # Staff resolve it; the resident gets a feedback link and says it did not help.
    with django_capture_on_commit_callbacks(execute=True):
        _admin_change(staff, inquiry, new_status=Status.RESOLVED)
    assert inquiry.status == Status.RESOLVED
    resolved = mail.outbox[-1]
    assert text["resolved_subject"] in resolved.subject
    feedback_path = _link(resolved, "f")
    assert resident.get(feedback_path, HTTP_ACCEPT_LANGUAGE=text["accept"]).status_code == 200
    thanks = resident.post(
        feedback_path, {"helped": "no", "rating": "2", "comment": "Still no money"}
    )
    assert thanks.status_code == 200
    inquiry.refresh_from_db()
    assert inquiry.status == Status.REOPENED
    assert inquiry.feedback.get().helped is False
    # The link is used up.
    assert resident.post(feedback_path, {"helped": "yes", "rating": "5"}).status_code == 410
