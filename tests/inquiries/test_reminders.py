"""The staff reminder: a case past its first-response target → its station's managers."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from inquiries.reminders import inquiries_overdue, inquiries_unassigned
from inquiries.services import inquiry_assign, inquiry_reply
from notifications.models import Message
from notifications.reminders import reminders_run
from stations.constants import MembershipRole
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def late_case(submit):
    inquiry = submit(urgency="urgent").inquiry
    inquiry.first_response_due = timezone.now() - datetime.timedelta(hours=1)
    inquiry.save(update_fields=["first_response_due"])
    return inquiry


def test_rules_are_listed_in_the_settings():
    assert "inquiries.reminders.inquiries_overdue" in settings.STAFF_ALERT_RULES
    assert "inquiries.reminders.inquiries_unassigned" in settings.STAFF_ALERT_RULES


def test_overdue_case_emails_each_manager_once(
    late_case, manager, officer, other_station, submit, django_capture_on_commit_callbacks
):
    other_manager = StaffUserFactory(
        username="linhe-manager", station=other_station, station__role=MembershipRole.MANAGER
    )
    submit(subject="On time")  # not overdue
    today = timezone.localdate()
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        outcome = inquiries_overdue(today=today, dry_run=False)
    assert (outcome.due, outcome.queued) == (1, 1)
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert late_case.reference in mail.outbox[0].subject
    assert other_manager.email not in str([m.to for m in mail.outbox])
    # Run again the same day (beat and by hand): nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        reminders_run(today=today, dry_run=False, rules=["inquiries.reminders.inquiries_overdue"])
    assert Message.objects.filter(template="inquiries/overdue").count() == 1
    assert len(mail.outbox) == 1


def test_dry_run_sends_nothing(late_case, manager):
    outcome = inquiries_overdue(today=timezone.localdate(), dry_run=True)
    assert outcome.due == 1 and outcome.queued == 0
    assert late_case.reference in outcome.details[0]
    assert (
        not Message.objects.exists()
        or not Message.objects.filter(template="inquiries/overdue").exists()
    )


def test_a_public_reply_ends_the_reminders(late_case, manager, officer):
    inquiry_assign(inquiry=late_case, assignee=officer)
    inquiry_reply(inquiry=late_case, body="We are on it", by=officer)
    assert inquiries_overdue(today=timezone.localdate(), dry_run=False).due == 0


def test_a_past_day_counts_cases_due_by_the_end_of_that_day(submit, manager):
    inquiry = submit().inquiry
    tomorrow = timezone.localdate(inquiry.first_response_due)
    assert inquiries_overdue(today=tomorrow - datetime.timedelta(days=5), dry_run=True).due == 0
    assert inquiries_overdue(today=tomorrow + datetime.timedelta(days=1), dry_run=True).due == 1


def test_a_new_case_alerts_each_officer_once_and_again_while_unassigned(
    submit, station, officer, manager, other_officer, settings, django_capture_on_commit_callbacks
):
    no_email = StaffUserFactory(username="desk", station=station, email="")
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        case = submit().inquiry  # alerted as it is recorded
        run = inquiries_unassigned(today=timezone.localdate(), dry_run=False)
    assert (run.due, run.queued) == (2, 0)  # the 15-minute run queues nothing twice
    staff_mail = [m for m in mail.outbox if m.to != ["amina@example.org"]]
    assert [m.to for m in staff_mail] == [["officer@example.org"]]  # officers, not managers
    mail.outbox = staff_mail
    assert case.reference in mail.outbox[0].subject
    in_workspace = Message.objects.get(channel="admin")
    assert (in_workspace.to, in_workspace.status) == (str(no_email.pk), "sent")
    later = timezone.now() + datetime.timedelta(hours=settings.INQUIRY_UNASSIGNED_ALERT_HOURS)
    with time_machine.travel(later, tick=False):
        again = inquiries_unassigned(today=timezone.localdate(), dry_run=False)
    assert again.queued == 2
    inquiry_assign(inquiry=case, assignee=officer, by=officer)
    with time_machine.travel(later + datetime.timedelta(hours=1), tick=False):
        taken = inquiries_unassigned(today=timezone.localdate(), dry_run=False)
    assert taken.due == 0


def test_a_manager_without_email_reads_the_overdue_case_in_the_workspace(late_case, station):
    desk = StaffUserFactory(
        username="desk-manager", station=station, station__role=MembershipRole.MANAGER, email=""
    )
    outcome = inquiries_overdue(today=timezone.localdate(), dry_run=False)
    assert outcome.queued == 1
    message = Message.objects.get(template="inquiries/overdue")
    assert (message.channel, message.to) == ("admin", str(desk.pk))


def test_unassigned_alerts_reach_every_case_however_many(submit, officer, monkeypatch):
    import inquiries.reminders

    monkeypatch.setattr(inquiries.reminders, "BATCH_SIZE", 2)
    cases = [submit(subject=f"Case {n}").inquiry for n in range(5)]
    Message.objects.filter(template="inquiries/unassigned").delete()  # as if the beat missed them
    outcome = inquiries_unassigned(today=timezone.localdate(), dry_run=False)
    assert (outcome.due, outcome.queued) == (5, 5)
    alerted = set(
        Message.objects.filter(template="inquiries/unassigned").values_list(
            "concerning_id", flat=True
        )
    )
    assert alerted == {str(case.pk) for case in cases}
