"""
How Linli writes a moment where staff read, sort or copy it as text: in local time.

One format, ``2026-11-28 23:06``: the wall-clock time of ``settings.TIME_ZONE`` (the
station's city), to the minute. Year first reads the same in every language, sorts as
text and is what spreadsheets recognise as a date and time; seconds, microseconds and a
UTC offset (``15:06:41.944294+00:00``) only make a staff member compute the local time,
and get the day wrong eight hours a day. Dates are ISO (``2026-11-28``).

For pages in a reader's own formats use Django's ``date`` filter and ``formats`` instead;
this is for CSV exports and other plain text.
"""

import datetime

from django.utils import timezone

LOCAL_DATETIME_FORMAT = "%Y-%m-%d %H:%M"
LOCAL_TIME_FORMAT = "%H:%M"


def format_local(value: datetime.date | datetime.time | None) -> str:
    """
    Return ``value`` as plain text: a datetime in local time to the minute, a date in ISO.

    An aware datetime is converted to ``settings.TIME_ZONE``; a naive one is taken as
    already local. ``None`` is the empty string.
    """
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime(LOCAL_DATETIME_FORMAT)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value.strftime(LOCAL_TIME_FORMAT)
