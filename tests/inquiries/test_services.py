"""The case workflow, enforced by the services."""

import datetime
import itertools

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from inquiries.constants import TRANSITIONS, EntryKind, ErrorCode, Status, Urgency
from inquiries.models import Inquiry, InquiryEntry
from inquiries.selectors import inquiry_get_by_token, inquiry_public_thread
from inquiries.services import (
    feedback_submit,
    first_response_due_compute,
    inquiries_assign,
    inquiry_assign,
    inquiry_note_add,
    inquiry_reply,
    inquiry_resident_reply,
    inquiry_transition,
    inquiry_update,
)
from notifications.models import Message

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def test_submit_stores_only_the_hash_of_the_private_link(submit):
    submitted = submit()
    inquiry = submitted.inquiry
    assert inquiry.reference.startswith("HL-")
    assert submitted.token not in inquiry.token_hash
    assert len(submitted.token) >= 43  # 256 bits
    assert inquiry_get_by_token(token=submitted.token) == inquiry
    assert inquiry_get_by_token(token=submitted.token[:-1] + "x") is None
    assert inquiry.status == Status.NEW


def test_submit_queues_the_confirmation_in_the_residents_language(
    submit, django_capture_on_commit_callbacks, outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit(language="zh-hans")
    message = Message.objects.get(idempotency_key=f"inquiry:{submitted.inquiry.pk}:received")
    assert message.language == "zh-hans"
    assert len(outbox) == 1
    assert submitted.inquiry.reference in outbox[0].subject
    assert "已收到" in outbox[0].subject
    assert submitted.token in outbox[0].body


def test_first_response_target_follows_the_urgency_setting(settings):
    friday = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
    urgent = first_response_due_compute(urgency=Urgency.URGENT, received=friday)
    normal = first_response_due_compute(urgency=Urgency.NORMAL, received=friday)
    assert urgent - friday == datetime.timedelta(hours=4)
    # Two working days after a Friday is the Tuesday (weekend skipped).
    assert normal.astimezone(SHANGHAI).date() == datetime.date(2026, 12, 1)
    settings.INQUIRY_FIRST_RESPONSE_TARGETS = {"urgent": {"hours": 1}, "normal": {"hours": 8}}
    assert first_response_due_compute(urgency=Urgency.URGENT, received=friday) - friday == (
        datetime.timedelta(hours=1)
    )


def test_overdue_is_computed_and_a_public_reply_stops_it(submit, officer):
    with time_machine.travel(timezone.now() - datetime.timedelta(hours=5), tick=False):
        inquiry = submit(urgency=Urgency.URGENT).inquiry
    assert inquiry.is_overdue
    assert list(Inquiry.objects.overdue()) == [inquiry]
    inquiry_assign(inquiry=inquiry, assignee=officer, by=officer)
    inquiry_note_add(inquiry=inquiry, body="Called the landlord.", by=officer)
    assert list(Inquiry.objects.overdue()) == [inquiry]  # a note is not a reply
    inquiry_reply(inquiry=inquiry, body="We called your landlord.", by=officer)
    inquiry.refresh_from_db()
    assert not inquiry.is_overdue
    assert not Inquiry.objects.overdue().exists()
    assert list(Inquiry.objects.not_overdue()) == [inquiry]


ALL = list(Status.values)
FORBIDDEN = [
    (current, target)
    for current, target in itertools.product(ALL, ALL)
    if target not in TRANSITIONS[current]
]


def _case_in(status, submit):
    inquiry = submit().inquiry
    Inquiry.objects.filter(pk=inquiry.pk).update(status=status, closed_at=timezone.now())
    inquiry.refresh_from_db()
    return inquiry


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_every_forbidden_transition_is_refused_and_changes_nothing(current, target, submit):
    inquiry = _case_in(current, submit)
    entries = InquiryEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        inquiry_transition(inquiry=inquiry, to_status=target)
    assert error.value.code == ErrorCode.INVALID_TRANSITION
    inquiry.refresh_from_db()
    assert inquiry.status == current
    assert InquiryEntry.objects.count() == entries


@pytest.mark.parametrize(
    ("current", "target"),
    [(c, t) for c, targets in TRANSITIONS.items() for t in sorted(targets)],
)
def test_every_allowed_transition_is_accepted_and_recorded(current, target, submit, officer):
    inquiry = _case_in(current, submit)
    Inquiry.objects.filter(pk=inquiry.pk).update(assigned_to=officer)
    inquiry.refresh_from_db()
    inquiry_transition(inquiry=inquiry, to_status=target)
    inquiry.refresh_from_db()
    assert inquiry.status == target
    assert InquiryEntry.objects.filter(
        inquiry=inquiry, kind=EntryKind.EVENT, body=f"status:{current}:{target}"
    ).exists()


def test_assignment_only_to_staff_of_the_cases_station(submit, officer, other_officer):
    inquiry = submit().inquiry
    with pytest.raises(ValidationError) as error:
        inquiry_assign(inquiry=inquiry, assignee=other_officer, by=other_officer)
    assert error.value.code == ErrorCode.NOT_A_MEMBER
    inquiry.refresh_from_db()
    assert inquiry.assigned_to is None and inquiry.status == Status.NEW
    inquiry_assign(inquiry=inquiry, assignee=officer, by=officer)
    inquiry.refresh_from_db()
    assert inquiry.assigned_to == officer and inquiry.status == Status.ASSIGNED


def test_bulk_assignment_is_all_or_nothing(submit, officer, other_station):
    mine = submit().inquiry
    theirs = submit(station=other_station).inquiry
    with pytest.raises(ValidationError):
        inquiries_assign(
            inquiries=Inquiry.objects.filter(pk__in=[mine.pk, theirs.pk]), assignee=officer
        )
    assert not Inquiry.objects.filter(assigned_to=officer).exists()
    assert inquiries_assign(inquiries=Inquiry.objects.filter(pk=mine.pk), assignee=officer) == 1


def test_internal_notes_are_never_shown_or_sent_to_the_resident(
    submit, officer, django_capture_on_commit_callbacks, outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        # The receipt goes first: the reply would wait for it (messages of a case keep order).
        inquiry = submit().inquiry
        inquiry_assign(inquiry=inquiry, assignee=officer, by=officer)
        inquiry_note_add(inquiry=inquiry, body="NOTE-Resident seemed upset", by=officer)
        inquiry_reply(inquiry=inquiry, body="REPLY-We will call you", by=officer)
    public = [entry.body for entry in inquiry_public_thread(inquiry=inquiry)]
    assert public == ["REPLY-We will call you"]
    bodies = " ".join(m.body for m in outbox)
    assert "REPLY-We will call you" in bodies
    assert "NOTE-" not in bodies
    assert not any("NOTE-" in str(m.context) for m in Message.objects.all())


def test_resident_reply_reopens_a_resolved_case_and_moves_a_waiting_one(submit, officer):
    inquiry = submit().inquiry
    inquiry_assign(inquiry=inquiry, assignee=officer, by=officer)
    inquiry_reply(inquiry=inquiry, body="Which street?", by=officer, to_status=Status.WAITING)
    inquiry_resident_reply(inquiry=inquiry, body="Shipai West Road")
    inquiry.refresh_from_db()
    assert inquiry.status == Status.IN_PROGRESS
    inquiry_transition(inquiry=inquiry, to_status=Status.RESOLVED, by=officer)
    inquiry_resident_reply(inquiry=inquiry, body="It happened again")
    inquiry.refresh_from_db()
    assert inquiry.status == Status.REOPENED


def test_reply_to_a_closed_case_after_the_grace_period_is_refused(submit, officer, settings):
    inquiry = submit().inquiry
    inquiry_assign(inquiry=inquiry, assignee=officer, by=officer)
    inquiry_transition(inquiry=inquiry, to_status=Status.RESOLVED, by=officer)
    inquiry_transition(inquiry=inquiry, to_status=Status.CLOSED, by=officer)
    later = timezone.now() + datetime.timedelta(days=settings.INQUIRY_REPLY_GRACE_DAYS + 1)
    entries = InquiryEntry.objects.count()
    with time_machine.travel(later, tick=False), pytest.raises(ValidationError) as error:
        inquiry_resident_reply(inquiry=inquiry, body="Hello again")
    assert error.value.code == ErrorCode.CASE_CLOSED
    assert InquiryEntry.objects.count() == entries
    inquiry.refresh_from_db()
    assert inquiry.status == Status.CLOSED


def test_feedback_link_works_once_and_expires_after_its_validity(submit, officer, settings):
    inquiry = submit().inquiry
    inquiry_assign(inquiry=inquiry, assignee=officer, by=officer)
    inquiry_transition(inquiry=inquiry, to_status=Status.RESOLVED, by=officer)
    feedback = inquiry.feedback.get()
    assert feedback.expires_at - feedback.created_at == datetime.timedelta(
        days=settings.INQUIRY_FEEDBACK_VALID_DAYS
    )
    later = feedback.expires_at + datetime.timedelta(minutes=1)
    with time_machine.travel(later, tick=False), pytest.raises(ValidationError) as error:
        feedback_submit(feedback=feedback, helped=False, rating=1)
    assert error.value.code == ErrorCode.TOKEN_EXPIRED
    feedback_submit(feedback=feedback, helped=True, rating=5, comment="Thanks")
    with pytest.raises(ValidationError) as error:
        feedback_submit(feedback=feedback, helped=False, rating=1)
    assert error.value.code == ErrorCode.TOKEN_USED
    inquiry.refresh_from_db()
    assert inquiry.status == Status.RESOLVED


def test_a_case_is_never_assigned_to_nobody(submit):
    inquiry = submit().inquiry
    with pytest.raises(ValidationError) as error:
        inquiry_transition(inquiry=inquiry, to_status=Status.ASSIGNED)
    assert error.value.code == "assignee_required"
    inquiry.refresh_from_db()
    assert inquiry.status == Status.NEW


def test_case_update_is_all_or_nothing_and_says_which_argument_failed(submit, officer):
    inquiry = submit().inquiry
    with pytest.raises(ValidationError) as refused:
        inquiry_update(
            inquiry=inquiry,
            by=officer,
            category=inquiry.category,
            urgency=Urgency.URGENT,
            assignee=officer,
            entry_body="On it.",
            to_status=Status.CLOSED,  # assigned cases cannot be closed
        )
    assert [e.code for e in refused.value.error_dict["to_status"]] == [ErrorCode.INVALID_TRANSITION]
    inquiry.refresh_from_db()
    assert (inquiry.urgency, inquiry.assigned_to, inquiry.status) == (
        Urgency.NORMAL,
        None,
        Status.NEW,
    )
    assert not InquiryEntry.objects.filter(inquiry=inquiry).exists()


def test_the_reply_moving_a_case_on_assigns_it_and_waits_for_the_resident(
    submit, officer, other_officer, client
):
    submitted = submit()
    inquiry = submitted.inquiry
    inquiry_reply(inquiry=inquiry, body="We will call your landlord.", by=officer)
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.assigned_to) == (Status.WAITING, officer)
    page = client.get(f"/h/{submitted.token}/")
    assert page.status_code == 200
    assert 'data-status="waiting"' in page.content.decode()
    # The resident's answer hands it back; the next reply waits again, still the officer's.
    inquiry_resident_reply(inquiry=inquiry, body="Thank you, any time today.")
    inquiry_reply(inquiry=inquiry, body="Done, he will pay.", by=officer)
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.assigned_to) == (Status.WAITING, officer)


def test_a_reply_by_staff_of_another_station_assigns_nobody(submit, other_officer):
    inquiry = submit().inquiry
    inquiry_reply(inquiry=inquiry, body="Ask your own station.", by=other_officer)
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.assigned_to) == (Status.NEW, None)


def test_a_reply_with_a_chosen_status_keeps_that_status(submit, officer):
    inquiry = submit().inquiry
    inquiry_assign(inquiry=inquiry, assignee=officer, by=officer)
    inquiry_reply(inquiry=inquiry, body="Solved.", by=officer, to_status=Status.RESOLVED)
    inquiry.refresh_from_db()
    assert inquiry.status == Status.RESOLVED
