"""Local times in each language's formats where staff or residents read a moment."""

import datetime
import zoneinfo

import pytest
from django.utils import translation

from notifications.models import Message
from notifications.rendering import message_render
from registration.selectors import registration_changes
from tests.registration.factories import RegistrationFactory

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_a_diff_of_a_datetime_shows_local_time(station):
    # 15:06 UTC on 28 November is 23:06 in Shanghai: the UTC text also gets the day wrong.
    arrived = datetime.datetime(2026, 11, 28, 15, 6, 41, 944294, tzinfo=datetime.UTC)
    registration = RegistrationFactory(station=station, arrival_at=arrived)
    registration.arrival_at = arrived + datetime.timedelta(hours=2)
    registration.save()
    with translation.override("zh-hans"):
        changes = {
            str(label): (before, after)
            for label, before, after in registration_changes(registration=registration)
        }
    before, after = next(v for k, v in changes.items() if "抵达" in k or "arriv" in k)
    assert (before, after) == ("2026年11月28日 23:06", "2026年11月29日 01:06")
    with translation.override("en"):
        shown = " ".join(
            " ".join(row[1:]) for row in registration_changes(registration=registration)
        )
    assert "Nov. 28, 2026, 11:06 p.m." in shown
    assert "+00:00" not in shown and "15:06" not in shown


def _message(**values) -> Message:
    defaults = {"channel": "email", "to": "someone@example.org", "idempotency_key": "k"}
    return Message(**{**defaults, **values})


def test_a_chinese_staff_email_shows_a_chinese_format_local_time(station):
    deadline = datetime.datetime(2026, 11, 29, 15, 6, tzinfo=datetime.UTC)  # 23:06 local
    message = _message(
        template="registration/staff_waiting",
        language="zh-hans",
        context={
            "reference": "R-1",
            "hours": 6,
            "overdue": False,
            "deadline": deadline.isoformat(),
            "admin_url": "https://example.org/a/",
        },
    )
    rendered = message_render(message)
    assert "的24小时期限将于 2026年11月29日 23:06 截止" in rendered.text
    assert "仍待审核" in rendered.subject
    assert "p.m." not in rendered.text and "11/29/2026" not in rendered.text


def test_english_emails_show_local_times_and_dates_in_english_formats(station):
    # Staff: a moment in local time (01:30 the next day, not 17:30 UTC).
    due = datetime.datetime(2026, 11, 29, 17, 30, tzinfo=datetime.UTC)  # 01:30 on the 30th
    message = _message(
        template="inquiries/overdue",
        language="en",
        context={
            "reference": "HL-1",
            "subject": "s",
            "urgency": "u",
            "status": "s",
            "due": due.isoformat(),
            "admin_url": "x",
        },
    )
    assert "Nov. 30, 2026, 1:30 a.m." in message_render(message).text
    # Resident: their visa's date as English writes it, in the subject and the body.
    visa = _message(
        template="registration/visa_expiring",
        language="en",
        idempotency_key="v",
        context={"reference": "R-2", "days": 7, "valid_until": "2026-12-06"},
    )
    rendered = message_render(visa)
    assert "Dec. 6, 2026" in rendered.subject and "Dec. 6, 2026" in rendered.text
