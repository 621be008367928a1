"""Every message of the inquiries app renders in every language, in each channel."""

import pytest
from django.conf import settings

from inquiries.services import inquiry_assign, inquiry_reply, inquiry_transition
from notifications.constants import Channel
from notifications.models import Message
from notifications.rendering import message_render

pytestmark = pytest.mark.django_db

TEMPLATES = ["received", "reply", "resolved", "check_in", "overdue"]
CONTEXT = {
    "reference": "HL-ABCD-EFGH",
    "subject": "Deposit",
    "reply": "We called your landlord.",
    "secret_case_url": "https://linli.example.org/h/token/",
    "secret_feedback_url": "https://linli.example.org/f/token/",
    "secret_check_in_url": "https://linli.example.org/check-in/token/",
    "valid_days": 14,
    "valid_until": "2026-12-31",
    "intro": "Hello",
    "emergency": True,
    "urgency": "urgent",
    "status": "new",
    "due": "2026-11-25 14:00",
    "admin_url": "https://linli.example.org/admin/",
}


@pytest.mark.parametrize("language", [code for code, _label in settings.LANGUAGES])
@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
def test_message_renders(station, language, template, channel):
    message = Message(
        template=f"inquiries/{template}",
        language=language,
        channel=channel,
        to="x@example.org",
        context=CONTEXT,
        station=station,
        recipient_name="Amina",
    )
    rendered = message_render(message)
    assert rendered.text.strip()
    if channel == Channel.EMAIL:
        assert "HL-ABCD-EFGH" in rendered.subject or template == "check_in"
    if language == "zh-hans":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rendered.subject + rendered.text)


def test_reply_message_carries_the_reply_and_the_case_in_the_residents_language(
    submit, officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        # The receipt goes first: the reply would wait for it (messages of a case keep order).
        inquiry = submit(language="zh-hans").inquiry
        inquiry_assign(inquiry=inquiry, assignee=officer)
        inquiry_reply(inquiry=inquiry, body="我们已联系房东。", by=officer)
        inquiry_transition(inquiry=inquiry, to_status="resolved", by=officer)
    reply = Message.objects.get(template="inquiries/reply")
    resolved = Message.objects.get(template="inquiries/resolved")
    assert reply.language == resolved.language == "zh-hans"
    # Private links are erased from the outbox once sent.
    assert "secret_feedback_url" not in resolved.context
