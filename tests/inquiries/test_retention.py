"""Retention: closed cases and check-in answers do not stay forever."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from inquiries.constants import Status
from inquiries.models import CheckInAnswer, CheckInInvitation, Inquiry, InquiryEntry
from inquiries.retention import cases_closed_expire, check_in_answers_expire
from inquiries.services import check_in_answer_submit, check_in_round_send, inquiry_note_add
from privacy.models import AuditEntry
from tests.inquiries.factories import CheckInRoundFactory, RegistrationFactory

pytestmark = pytest.mark.django_db


def test_closed_cases_are_deleted_with_thread_and_photo_after_the_period(
    submit, officer, settings, django_capture_on_commit_callbacks
):
    old = submit().inquiry
    old.photo.save("p.jpg", ContentFile(b"jpeg"), save=True)
    inquiry_note_add(inquiry=old, body="note", by=officer)
    recent = submit().inquiry
    open_case = submit().inquiry
    now = timezone.now()
    days = settings.RETENTION["cases_closed_days"]
    Inquiry.objects.filter(pk=old.pk).update(
        status=Status.CLOSED, closed_at=now - datetime.timedelta(days=days + 1)
    )
    Inquiry.objects.filter(pk=recent.pk).update(
        status=Status.CLOSED, closed_at=now - datetime.timedelta(days=days - 1)
    )
    assert cases_closed_expire(now=now, dry_run=True).deleted == 1
    assert Inquiry.objects.filter(pk=old.pk).exists()
    name = old.photo.name
    with django_capture_on_commit_callbacks(execute=True):
        outcome = cases_closed_expire(now=now, dry_run=False)
    assert (outcome.deleted, outcome.files) == (1, 1)
    assert set(Inquiry.objects.values_list("pk", flat=True)) == {recent.pk, open_case.pk}
    assert not InquiryEntry.objects.filter(inquiry_id=old.pk).exists()
    assert not default_storage.exists(name)


def test_check_in_free_text_is_erased_after_the_period_ratings_stay(station, settings):
    RegistrationFactory(station=station)
    round = CheckInRoundFactory(station=station)
    check_in_round_send(round_id=round.pk)
    invitation = CheckInInvitation.objects.get()
    check_in_answer_submit(invitation=invitation, rating=4, troubles="noisy neighbours")
    later = timezone.now() + datetime.timedelta(
        days=settings.RETENTION["check_in_answers_days"] + 1
    )
    assert check_in_answers_expire(now=timezone.now(), dry_run=False).anonymised == 0
    assert check_in_answers_expire(now=later, dry_run=False).anonymised == 1
    answer = CheckInAnswer.objects.get()
    assert (answer.troubles, answer.rating) == ("", 4)


def test_staff_opening_a_case_is_audited(client, submit, officer):
    inquiry = submit().inquiry
    client.force_login(officer)
    client.get(reverse("admin:inquiries_inquiry_change", args=[inquiry.pk]))
    assert AuditEntry.objects.filter(user=officer, object_id=str(inquiry.pk)).exists()
