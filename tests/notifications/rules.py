"""Fake reminder rules for the runner's tests (real rules live in the owning apps)."""

import datetime

from notifications.constants import Channel
from notifications.reminders import RuleOutcome, reminder_key
from notifications.services import message_queue
from stations.models import Station


def station_anniversary(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """One email per active station created on today's month and day (any station, here)."""
    outcome = RuleOutcome(rule="tests.station_anniversary")
    for station in Station.objects.active().order_by("code").iterator():
        outcome.due += 1
        outcome.details.append(f"{station.code} <{station.code}@example.org>")
        if dry_run:
            continue
        message = message_queue(
            template="notifications/test",
            language="en",
            channel=Channel.EMAIL,
            to=f"{station.code}@example.org",
            context={},
            idempotency_key=reminder_key("tests.station_anniversary", station, today),
            station=station,
            concerning=station,
        )
        outcome.queued += message.newly_queued
    return outcome


def broken(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    raise RuntimeError("this rule is broken")
