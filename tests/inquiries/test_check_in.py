"""Check-in rounds: staff reach out first; troubled answers become cases."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inquiries.constants import ErrorCode, RoundStatus, Source
from inquiries.models import CheckInAnswer, CheckInInvitation, CheckInRound, Inquiry
from inquiries.selectors import round_statistics
from inquiries.services import check_in_answer_submit, check_in_round_send, check_in_troubled
from notifications import sms
from notifications.models import Message
from registration.constants import RegistrationStatus
from stations.constants import MembershipRole
from tests.inquiries.factories import CheckInRoundFactory, RegistrationFactory, ResidentFactory
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_residents(station):
    languages = ["en", "zh-hans", "en", "zh-hans", "en"]
    return [
        RegistrationFactory(
            station=station,
            resident=ResidentFactory(
                preferred_language=language,
                preferred_channel="sms" if index == 4 else "email",
            ),
        ).resident
        for index, language in enumerate(languages)
    ]


@pytest.fixture
def not_eligible(station, other_station):
    """Residents who must never be invited to a round of ``station``."""
    return [
        RegistrationFactory(station=station, resident=ResidentFactory(contact_consent=False)),
        RegistrationFactory(station=station, status=RegistrationStatus.ENDED),
        RegistrationFactory(station=other_station),
    ]


def _send(client, round):
    return client.post(
        reverse("admin:inquiries_checkinround_changelist"),
        {"action": "send_round", "_selected_action": [round.pk]},
    )


def _links(outbox):
    return [
        re.search(r"https://linli\.example\.org(/check-in/[A-Za-z0-9_-]+/)", m.body).group(1)
        for m in outbox
    ]


def test_round_invites_each_eligible_resident_once_and_a_troubled_answer_becomes_a_case(
    client,
    station,
    manager,
    other_officer,
    five_residents,
    not_eligible,
    django_capture_on_commit_callbacks,
):
    round = CheckInRoundFactory(station=station)
    client.force_login(manager)
    mail.outbox = []
    sms.outbox = [] if hasattr(sms, "outbox") else None
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, round)
    assert response.status_code == 302
    round.refresh_from_db()
    assert round.status == RoundStatus.SENT
    invitations = CheckInInvitation.objects.filter(round=round)
    assert {i.resident_id for i in invitations} == {r.pk for r in five_residents}
    messages = Message.objects.filter(template="inquiries/check_in")
    assert messages.count() == 5
    assert messages.filter(channel="sms").count() == 1
    assert {m.language for m in messages} == {"en", "zh-hans"}
    assert len(mail.outbox) == 4
    chinese = [m for m in mail.outbox if m.to == [five_residents[1].email]][0]
    assert "您最近好吗" in chinese.subject and "服务站想了解您的近况" in chinese.body

    # Sending again (a second click, a task run twice) invites nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, round)
    assert check_in_round_send(round_id=round.pk) == 0
    assert CheckInInvitation.objects.filter(round=round).count() == 5
    assert Message.objects.filter(template="inquiries/check_in").count() == 5
    assert len(mail.outbox) == 4

    # Four answer that all is well, one that something troubles them.
    links = dict(zip([m.to[0] for m in mail.outbox], _links(mail.outbox), strict=True))
    resident = client.__class__()
    for person in five_residents[:4]:
        path = links[person.email]
        assert resident.get(path).status_code == 200
        troubled = person == five_residents[1]
        with django_capture_on_commit_callbacks(execute=True):
            response = resident.post(
                path,
                {
                    "rating": "4",
                    "troubles": "楼上每天深夜很吵，房东不管。" if troubled else "nothing",
                    "wants_contact": "no",
                },
            )
        assert response.status_code == 200
    case = Inquiry.objects.get()
    assert case.source == Source.CHECK_IN
    assert case.resident == five_residents[1]
    assert case.language == "zh-hans"
    assert "楼上每天深夜很吵，房东不管。" in case.description
    assert CheckInAnswer.objects.get(inquiry=case).invitation.resident == five_residents[1]
    # The resident of the case is sent their private link to follow it.
    assert Message.objects.filter(
        template="inquiries/received", to=five_residents[1].email
    ).exists()

    # A used link cannot be used again.
    again = resident.post(links[five_residents[0].email], {"rating": "1", "wants_contact": "no"})
    assert again.status_code == 410
    assert CheckInAnswer.objects.count() == 4

    stats = round_statistics(round=round)
    assert stats["invited"] == 5
    assert stats["delivered"] == 5
    assert stats["answered"] == 4
    assert stats["cases"] == 1
    assert dict(stats["ratings"]) == {1: 0, 2: 0, 3: 0, 4: 4, 5: 0}
    page = client.get(reverse("admin:inquiries_checkinround_change", args=[round.pk]))
    assert page.status_code == 200

    # Officers of another station see nothing of it.
    client.force_login(other_officer)
    assert round.title not in client.get(reverse("admin:inquiries_checkinround_changelist")).text
    assert (
        client.get(reverse("admin:inquiries_checkinround_change", args=[round.pk])).status_code
        == 404
    )
    assert case.reference not in client.get(reverse("admin:inquiries_inquiry_changelist")).text
    assert client.get(reverse("admin:inquiries_inquiry_change", args=[case.pk])).status_code == 404
    answers = client.get(reverse("admin:inquiries_checkinanswer_changelist"))
    assert "楼上" not in answers.text and "0 check-in answers" in answers.text


@pytest.mark.parametrize(
    ("rating", "troubles", "wants_contact", "expected"),
    [
        (5, "", False, False),
        (4, "No.", False, False),
        (3, "没有", False, False),
        (2, "", False, True),
        (5, "", True, True),
        (5, "My visa is about to expire", False, True),
    ],
)
def test_which_answers_raise_a_case(rating, troubles, wants_contact, expected):
    assert (
        check_in_troubled(rating=rating, troubles=troubles, wants_contact=wants_contact) is expected
    )


def _invite(station, **resident):
    RegistrationFactory(station=station, resident=ResidentFactory(**resident))
    round = CheckInRoundFactory(station=station)
    check_in_round_send(round_id=round.pk)
    return CheckInInvitation.objects.get(round=round)


def test_low_rating_or_contact_wish_raises_a_case_quoting_the_answer(station):
    invitation = _invite(station, preferred_language="en")
    answer = check_in_answer_submit(
        invitation=invitation, rating=2, wants_contact=True, contact_method="phone"
    )
    case = answer.inquiry
    assert case.resident == invitation.resident
    assert "How is your life here? 2/5" in case.description
    assert "yes, by phone" in case.description
    assert case.contact_method == "phone"


def test_expired_check_in_link_is_refused(client, station):
    invitation = _invite(station)
    later = invitation.expires_at + datetime.timedelta(minutes=1)
    with pytest.raises(Exception) as error, time_machine.travel(later, tick=False):
        check_in_answer_submit(invitation=invitation, rating=1)
    assert error.value.code == ErrorCode.TOKEN_EXPIRED
    assert not CheckInAnswer.objects.exists() and not Inquiry.objects.exists()


def test_expired_or_unknown_check_in_link_pages(
    client, station, django_capture_on_commit_callbacks
):
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        invitation = _invite(station)
    path = _links(mail.outbox)[0]
    with time_machine.travel(invitation.expires_at + datetime.timedelta(days=1), tick=False):
        assert client.get(path).status_code == 410
        assert client.post(path, {"rating": "1", "wants_contact": "no"}).status_code == 410
    assert client.get("/check-in/" + "x" * 43 + "/").status_code == 404
    assert client.get("/check-in/short/").status_code == 404
    assert not CheckInAnswer.objects.exists()


def test_a_link_answers_only_its_own_invitation(
    client, station, django_capture_on_commit_callbacks
):
    """Another resident's token is never reachable through one's own link, and vice versa."""
    mail.outbox = []
    RegistrationFactory(station=station, resident=ResidentFactory(email="a@example.org"))
    RegistrationFactory(station=station, resident=ResidentFactory(email="b@example.org"))
    round = CheckInRoundFactory(station=station)
    with django_capture_on_commit_callbacks(execute=True):
        check_in_round_send(round_id=round.pk)
    links = dict(zip([m.to[0] for m in mail.outbox], _links(mail.outbox), strict=True))
    other = CheckInInvitation.objects.get(resident__email="b@example.org")
    response = client.post(
        links["a@example.org"],
        {"rating": "5", "wants_contact": "no", "invitation": other.pk, "token": "x"},
    )
    assert response.status_code == 200
    answer = CheckInAnswer.objects.get()
    assert answer.invitation.resident.email == "a@example.org"
    assert not CheckInAnswer.objects.filter(invitation=other).exists()


def test_bad_check_in_answers_are_refused_with_nothing_saved(
    client, station, django_capture_on_commit_callbacks
):
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        _invite(station)
    path = _links(mail.outbox)[0]
    for data in (
        {},
        {"rating": "9", "wants_contact": "no"},
        {"rating": "3", "wants_contact": "no", "troubles": "x" * 10_000},
        {"rating": "3", "wants_contact": "no", "troubles": "<script>alert(1)</script>"},
        {"rating": "3", "wants_contact": "yes"},
    ):
        response = client.post(path, data)
        assert response.status_code == 400
    assert not CheckInAnswer.objects.exists()


def test_only_managers_send_rounds(client, station, officer):
    round = CheckInRoundFactory(station=station)
    client.force_login(officer)
    response = _send(client, round)
    assert response.status_code in (200, 302, 403)
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAFT
    assert not CheckInInvitation.objects.exists()


def test_round_list_costs_the_same_queries_at_any_size(client, station, manager):
    client.force_login(manager)
    url = reverse("admin:inquiries_checkinround_changelist")
    CheckInRoundFactory.create_batch(3, station=station)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    CheckInRoundFactory.create_batch(30, station=station)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(small.captured_queries) == len(large.captured_queries)


def test_round_is_sent_to_residents_without_email_by_sms(
    station, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(station, email="", preferred_channel="email")
    message = Message.objects.get(template="inquiries/check_in")
    assert message.channel == "sms"
    assert timezone.now() < CheckInInvitation.objects.get().expires_at
    assert CheckInRound.objects.get().status == RoundStatus.SENT


def _round_form(station, **extra):
    data = {
        "station": station.pk,
        "title": "Winter check-in",
        "valid_days": "30",
        "intros-TOTAL_FORMS": "2",
        "intros-INITIAL_FORMS": "0",
        "intros-MIN_NUM_FORMS": "1",
        "intros-MAX_NUM_FORMS": "2",
        "intros-0-language": "en",
        "intros-0-text": "How are you this winter?",
        "intros-1-language": "zh-hans",
        "intros-1-text": "冬天过得好吗？",
    }
    data.update(extra)
    return data


def test_manager_creates_a_round_with_an_intro_per_language(client, station, manager):
    client.force_login(manager)
    response = client.post(reverse("admin:inquiries_checkinround_add"), _round_form(station))
    assert response.status_code == 302, response.text[:2000]
    round = CheckInRound.objects.get()
    assert round.created_by == manager and round.status == RoundStatus.DRAFT
    assert round.intro("zh-hans") == "冬天过得好吗？"
    assert round.intro("fr") == "How are you this winter?"  # falls back to the default


def test_managers_cannot_create_rounds_for_another_station(client, station, other_station):
    other_manager = StaffUserFactory(
        username="linhe-manager", station=other_station, station__role=MembershipRole.MANAGER
    )
    client.force_login(other_manager)
    response = client.post(reverse("admin:inquiries_checkinround_add"), _round_form(station))
    assert response.status_code == 200
    assert "station" in response.context["adminform"].form.errors
    assert not CheckInRound.objects.exists()


def test_officers_may_not_create_rounds(client, officer):
    client.force_login(officer)
    assert client.get(reverse("admin:inquiries_checkinround_add")).status_code == 403


def test_groups_receive_the_inquiries_permissions(db):
    officer = Group.objects.get(name="Station officer")
    manager = Group.objects.get(name="Station manager")
    assert officer.permissions.filter(codename="change_inquiry").exists()
    assert not officer.permissions.filter(codename="add_checkinround").exists()
    assert manager.permissions.filter(codename="add_checkinround").exists()
