"""Every registration message renders in every language of settings.LANGUAGES, both channels."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from notifications.constants import Channel
from notifications.rendering import message_render
from tests.notifications.factories import MessageFactory

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(
    path.name
    for path in (
        Path(__file__).resolve().parents[2] / "registration/templates/messages/registration"
    ).iterdir()
    if path.is_dir() and not path.name.startswith("_")
)
CONTEXT = {
    "reference": "SH-7K3M-9Q2X",
    "status": "submitted",
    "staff_message": "STAFF-MESSAGE",
    "secret_link": "https://linli.example.org/registration/r/SECRET/",
    "late": True,
    "days": 7,
    "valid_until": "2026-12-01",
    "expected_departure": "2026-12-01",
    "hours": 12,
    "deadline": "2026-12-01 10:00",
    "admin_url": "https://linli.example.org/admin/",
    "end_reason": "visa_expired",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_there_is_a_template_for_every_message_the_app_sends():
    assert set(TEMPLATES) >= {
        "confirmation",
        "registered",
        "correction_requested",
        "rejected",
        "ended",
        "ended_visa_expired",
        "link_resent",
        "visa_expiring",
        "correction_reminder",
        "departure_check",
        "staff_waiting",
    }


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
def test_message_renders(template, language, channel, station):
    message = MessageFactory.build(
        template=f"registration/{template}",
        language=language,
        channel=channel,
        station=station,
        context=CONTEXT,
        recipient_name="DIALLO Aminata",
    )
    rendered = message_render(message)
    text = rendered.text
    assert text.strip()
    assert "{{" not in text and "{%" not in text
    if template != "staff_waiting":
        assert "SH-7K3M-9Q2X" in text or "SH-7K3M-9Q2X" in rendered.subject
    if channel == Channel.EMAIL:
        assert rendered.subject and "\n" not in rendered.subject
    if language == "zh-hans":
        assert CJK.search(text), text
    if template in ("confirmation", "link_resent"):
        assert CONTEXT["secret_link"] in text
        if channel == Channel.EMAIL:
            assert CONTEXT["secret_link"] in rendered.html
            assert rendered.html.startswith("<!doctype html>")
    if template in ("correction_requested", "rejected") and channel == Channel.EMAIL:
        assert "STAFF-MESSAGE" in text
