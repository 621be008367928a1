"""Message templates render in every language of settings.LANGUAGES."""

import datetime
import zoneinfo

import pytest
from django.conf import settings

from notifications.constants import Channel
from notifications.rendering import message_render
from notifications.timing import quiet_hours_end, retry_delay
from tests.notifications.factories import MessageFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
EXPECTED = {
    "en": "This is a test message from Linli.",
    "zh-hans": "这是邻里发送的测试消息。",
    "ko": "린리에서 보낸 테스트 메시지입니다.",
}


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
def test_test_message_renders_in_every_language(language, channel, station):
    message = MessageFactory.build(language=language, channel=channel, station=station, context={})
    rendered = message_render(message)
    assert rendered.text.strip()
    if language in EXPECTED:
        assert EXPECTED[language] in rendered.text
    if channel == Channel.EMAIL:
        assert station.text(language).name in rendered.subject
        assert "\n" not in rendered.subject
        assert rendered.html.startswith("<!doctype html>")


def test_preview_masks_private_values(station):
    message = MessageFactory.build(context={"secret_link": "https://x/r/RAW"}, station=station)
    assert "RAW" not in message_render(message, mask_secrets=True).text
    assert "RAW" in message_render(message).text


def test_rendering_does_not_leak_the_language_into_the_caller():
    from django.utils import translation

    translation.activate("en")
    message_render(MessageFactory.build(language="zh-hans"))
    assert translation.get_language() == "en"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ((21, 59), None),
        ((22, 0), (26, 8)),
        ((23, 59), (26, 8)),
        ((0, 0), (25, 8)),
        ((7, 59), (25, 8)),
        ((8, 0), None),
        ((12, 0), None),
    ],
)
def test_quiet_hours_end_at_eight_local_time(settings, local, expected):
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = ("22:00", "08:00")
    moment = datetime.datetime(2026, 11, 25, *local, tzinfo=SHANGHAI)
    # The same instant in UTC gives the same answer: only the local time counts.
    result = quiet_hours_end(moment.astimezone(datetime.UTC))
    if expected is None:
        assert result is None
    else:
        day, hour = expected
        assert result == datetime.datetime(2026, 11, day, hour, 0, tzinfo=SHANGHAI)


def test_quiet_hours_can_be_switched_off(settings):
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = None
    assert quiet_hours_end(datetime.datetime(2026, 11, 25, 23, 0, tzinfo=SHANGHAI)) is None


def test_retry_delay_doubles_up_to_its_ceiling(settings):
    settings.NOTIFICATIONS_RETRY_BASE_DELAY = 60
    settings.NOTIFICATIONS_RETRY_MAX_DELAY = 3600
    delays = [retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def _message_templates() -> list[str]:
    """Return every ``messages/<template>/`` key found in the template directories."""
    from pathlib import Path

    from django.template import engines

    keys = set()
    for directory in engines["django"].template_dirs:
        root = Path(directory) / "messages"
        if root.is_dir():
            for file in root.rglob("*.txt"):
                keys.add(str(file.parent.relative_to(root)))
    return sorted(keys)


@pytest.mark.parametrize("template", _message_templates())
def test_every_message_template_has_its_files_and_compiles(template):
    """Each app's message templates exist for a channel and compile (rendering them with
    real context, in every language, is the owning app's test)."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    found = set()
    for name in ("subject.txt", "body.txt", "body.html", "sms.txt"):
        try:
            get_template(f"messages/{template}/{name}")
        except TemplateDoesNotExist:
            continue
        found.add(name)
    assert {"subject.txt", "body.txt"} <= found or "sms.txt" in found, (
        f"{template}: neither subject.txt + body.txt nor sms.txt"
    )
