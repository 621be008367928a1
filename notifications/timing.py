"""When messages may be sent: quiet hours for SMS and the backoff between attempts."""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from notifications.constants import QUIET_CHANNELS, Channel


def _parse(value: str) -> datetime.time:
    hours, minutes = value.split(":")
    return datetime.time(int(hours), int(minutes))


def quiet_hours_end(moment: datetime.datetime) -> datetime.datetime | None:
    """
    Return when the SMS quiet hours around ``moment`` end, or None outside them.

    ``NOTIFICATIONS_SMS_QUIET_HOURS = ("22:00", "08:00")`` in
    ``NOTIFICATIONS_QUIET_HOURS_TIME_ZONE`` (Asia/Shanghai): a text message due at 23:30
    waits until 08:00 the next morning. ``None`` switches quiet hours off.
    """
    quiet_hours = settings.NOTIFICATIONS_SMS_QUIET_HOURS
    if not quiet_hours:
        return None
    start, end = (_parse(value) for value in quiet_hours)
    zone = ZoneInfo(settings.NOTIFICATIONS_QUIET_HOURS_TIME_ZONE)
    local = moment.astimezone(zone)
    now = local.time()
    quiet = (now >= start or now < end) if start > end else (start <= now < end)
    if not quiet:
        return None
    day = local.date() if now < end else local.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, end, tzinfo=zone)


def due_time(*, channel: str, moment: datetime.datetime) -> datetime.datetime:
    """Return ``moment``, moved to the end of the quiet hours for SMS and WeChat."""
    if channel in QUIET_CHANNELS:
        return quiet_hours_end(moment) or moment
    return moment


def retry_delay(attempts: int) -> datetime.timedelta:
    """Return the wait after the ``attempts``-th failed attempt: doubling, with a ceiling."""
    base = settings.NOTIFICATIONS_RETRY_BASE_DELAY
    ceiling = settings.NOTIFICATIONS_RETRY_MAX_DELAY
    seconds = min(ceiling, base * 2 ** max(0, min(attempts - 1, 30)))
    return datetime.timedelta(seconds=seconds)


def retry_deadline(first_attempt_at: datetime.datetime, channel: str = "") -> datetime.datetime:
    """
    Return the time after which a message that keeps failing is given up. WeChat gives up
    sooner (``WECHAT_RETRY_HOURS``): its message then goes by email or SMS instead.
    """
    hours = settings.NOTIFICATIONS_RETRY_HOURS
    if channel == Channel.WECHAT:
        hours = min(hours, settings.WECHAT_RETRY_HOURS)
    return first_attempt_at + datetime.timedelta(hours=hours)
