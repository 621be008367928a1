"""
Two reminder runs at once (two beats, beat and a run by hand): no duplicate message, and
the run that finds its work already done says nothing louder than INFO.
"""

import datetime
import logging
import threading

import pytest
from django.db import connection
from django.utils import timezone

from inquiries.services import inquiry_submit
from notifications.models import Message
from notifications.reminders import RuleOutcome, reminders_run
from registration import reminders
from registration.constants import AmendmentKind, RegistrationStatus
from registration.models import Amendment, Registration
from stations.constants import MembershipRole
from tests.registration.factories import RegistrationFactory
from tests.stations.factories import StaffUserFactory

S = RegistrationStatus


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def expired_registrations(station, count: int) -> list[Registration]:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    return RegistrationFactory.create_batch(
        count, station=station, status=S.REGISTERED, visa_valid_until=yesterday
    )


@pytest.mark.django_db
def test_run_that_read_rows_another_run_then_ended_skips_them_quietly(station, caplog):
    registrations = expired_registrations(station, 4)
    today = timezone.localdate()
    # The losing run has read what expired…
    read_by_the_loser = list(
        Registration.objects.filter(status__in=[S.REGISTERED], visa_valid_until__lt=today)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # …then the winning run ends them all and tells each resident…
    winner = reminders.visa_expired(today=today, dry_run=False)
    # …and only then does the loser end what it read.
    loser = RuleOutcome(rule="registration.visa_expired")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        reminders._expired_end(read_by_the_loser, today=today, outcome=loser)

    assert (winner.due, winner.queued) == (4, 4)
    assert loser.queued == 0
    assert errors(caplog) == []  # was one ERROR traceback per registration
    assert any("ended by another run" in r.getMessage() for r in caplog.records)
    assert Message.objects.filter(template="registration/ended_visa_expired").count() == 4
    assert Amendment.objects.filter(kind=AmendmentKind.ENDED).count() == len(registrations)


@pytest.mark.django_db
def test_every_rule_run_twice_in_a_row_queues_each_reminder_once(station, caplog):
    expired_registrations(station, 2)
    RegistrationFactory(
        station=station,
        status=S.REGISTERED,
        visa_valid_until=timezone.localdate() + datetime.timedelta(days=7),
    )
    today = timezone.localdate()
    first = reminders_run(today=today, dry_run=False)
    count = Message.objects.count()
    second = reminders_run(today=today, dry_run=False)
    assert count == 3
    assert Message.objects.count() == count
    assert sum(o.queued for o in second) == 0
    assert [o.error for o in first + second if o.error] == []
    assert errors(caplog) == []


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are PostgreSQL's (SQLite serialises)"
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_time_end_and_remind_once_without_an_error(station, caplog):
    expired_registrations(station, 40)
    StaffUserFactory(username="manager", station=station, station__role=MembershipRole.MANAGER)
    for n in range(5):
        case = inquiry_submit(
            station=station,
            category="housing",
            subject=f"Case {n}",
            description="The landlord keeps my deposit.",
            urgency="normal",
            contact_name="Amina Diallo",
            contact_method="email",
            contact_time="any",
            language="en",
            email=f"amina{n}@example.org",
        ).inquiry
        case.first_response_due = timezone.now() - datetime.timedelta(hours=1)
        case.save(update_fields=["first_response_due"])
    today = timezone.localdate()
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        barrier.wait()
        try:
            outcomes.append(reminders_run(today=today, dry_run=False))
        finally:
            connection.close()

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(60)

    assert errors(caplog) == []
    assert [o.error for outcome in outcomes for o in outcome if o.error] == []
    assert Message.objects.filter(template="registration/ended_visa_expired").count() == 40
    assert Message.objects.filter(template="inquiries/overdue").count() == 5
    assert Amendment.objects.filter(kind=AmendmentKind.ENDED).count() == 40
    ended = [o for outcome in outcomes for o in outcome if o.rule == "registration.visa_expired"]
    assert sum(o.queued for o in ended) == 40  # each ending (and its message) once
