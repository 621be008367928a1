"""
Moments in messages, in local time and the reader's language's formats.

A message's context is stored as JSON, so it carries a moment as ISO text
(``2026-11-28T15:06:41+00:00`` or ``2026-11-28``); these filters read it back and write
it as the recipient reads times: the wall-clock time of ``settings.TIME_ZONE`` (the
station's city), in the active language's ``DATETIME_FORMAT`` / ``DATE_FORMAT``
(``message_render`` activates both): ``2026年11月29日 23:06`` in Chinese, ``Nov. 29,
2026, 11:06 p.m.`` in English (the month spelt out: ``11/29/2026`` misleads readers
outside the US), ``29 novembre 2026 23:06`` in French.
"""

import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()


def _parse(value):
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return datetime.date.fromisoformat(value)
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


@register.filter
def local_datetime(value) -> str:
    """Return a moment (ISO text or datetime) as local time in the active language's format."""
    moment = _parse(value)
    if not isinstance(moment, datetime.datetime):
        return local_date(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "DATETIME_FORMAT")


@register.filter
def local_date(value) -> str:
    """Return a date (ISO text or date) in the active language's date format."""
    day = _parse(value)
    if isinstance(day, datetime.datetime):
        day = timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    if not isinstance(day, datetime.date):
        return "" if value is None else str(value)
    return date_format(day, "DATE_FORMAT")
