"""
Every admin URL of every Linli model, tried by staff of another station: nothing shows.

An officer or manager sees only their stations (``stations_for_user``): another station's
object is absent from the list and its pages answer 404. A new model in the admin without
a builder here fails ``test_every_linli_admin_model_is_covered``.
"""

import contextlib
import datetime

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from core.tokens import token_new
from inquiries.constants import Category, ContactMethod, ContactTime, Urgency
from inquiries.models import CheckInInvitation
from inquiries.services import check_in_answer_submit, inquiry_submit
from notifications.services import message_queue
from privacy.constants import AuditAction
from privacy.services import audit_record
from stations.constants import MembershipRole
from tests.inquiries.factories import CheckInRoundFactory, ReplyTemplateFactory
from tests.registration.factories import RegistrationFactory
from tests.stations.factories import StaffUserFactory, StationFactory
from workspace.models import StaffMember

pytestmark = pytest.mark.django_db

LINLI_APPS = {"stations", "privacy", "notifications", "registration", "inquiries", "workspace"}


def _inquiry(station):
    return inquiry_submit(
        station=station,
        category=Category.HOUSING,
        subject="Deposit",
        description="Landlord keeps my deposit.",
        urgency=Urgency.NORMAL,
        contact_name="Amina",
        contact_method=ContactMethod.EMAIL,
        contact_time=ContactTime.ANY,
        language="en",
        email="amina@example.org",
    ).inquiry


def _answer(station):
    registration = RegistrationFactory(station=station)
    check_in_round = CheckInRoundFactory(station=station)
    invitation = CheckInInvitation.objects.create(
        round=check_in_round,
        resident=registration.resident,
        token_hash=token_new()[1],
        language="en",
        channel="email",
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    return check_in_answer_submit(invitation=invitation, rating=5, troubles="")


def _feedback(station):
    from inquiries.services import inquiry_assign, inquiry_reply, inquiry_transition

    inquiry = _inquiry(station)
    officer = StaffUserFactory(username=f"fb-{station.code}", station=station)
    inquiry_assign(inquiry=inquiry, assignee=officer, by=officer)
    inquiry_reply(inquiry=inquiry, body="Done.", by=officer)
    inquiry_transition(inquiry=inquiry, to_status="resolved", by=officer)
    return inquiry.feedback.get()


BUILDERS = {
    "stations.station": lambda station: station,
    "privacy.auditentry": lambda station: audit_record(
        user=None, action=AuditAction.VIEW, station=station, detail="x"
    ),
    "notifications.message": lambda station: message_queue(
        template="notifications/test",
        language="en",
        channel="email",
        to="someone@example.org",
        context={},
        idempotency_key=f"scoping-{station.code}",
        station=station,
    ),
    "registration.registration": lambda station: RegistrationFactory(station=station),
    "registration.resident": lambda station: RegistrationFactory(station=station).resident,
    "inquiries.inquiry": _inquiry,
    "inquiries.replytemplate": lambda station: ReplyTemplateFactory(station=station),
    "inquiries.checkinround": lambda station: CheckInRoundFactory(station=station),
    "inquiries.checkinanswer": _answer,
    "inquiries.inquiryfeedback": _feedback,
    "workspace.staffmember": lambda station: StaffMember.objects.get(
        pk=StaffUserFactory(username=f"staff-{station.code}", station=station).pk
    ),
}


def _linli_models():
    return sorted(
        model._meta.label_lower
        for model in admin.site._registry
        if model._meta.app_label in LINLI_APPS
    )


def test_every_linli_admin_model_is_covered():
    assert set(_linli_models()) == set(BUILDERS)


def _urls(obj):
    opts = obj._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}"
    urls = {}
    for name in ("change", "history", "delete"):
        with contextlib.suppress(NoReverseMatch):
            urls[name] = reverse(f"{prefix}_{name}", args=[obj.pk])
    history = getattr(type(obj), "history", None)
    if history is not None and hasattr(history, "model"):
        version = history.model.objects.filter(id=obj.pk).first()
        if version is not None:
            with contextlib.suppress(NoReverseMatch):
                urls["history_version"] = reverse(
                    f"{prefix}_simple_history", args=[obj.pk, version.history_id]
                )
    return urls


@pytest.fixture
def foreign_object_and_staff(request, db):
    label, role = request.param
    mine = StationFactory(code="shipai")
    theirs = StationFactory(code="linhe")
    obj = BUILDERS[label](theirs)
    user = StaffUserFactory(username=f"{role}-shipai", station=mine, station__role=role)
    return obj, user


@pytest.mark.parametrize(
    "foreign_object_and_staff",
    [
        (label, role)
        for label in sorted(BUILDERS)
        for role in (MembershipRole.OFFICER, MembershipRole.MANAGER)
    ],
    indirect=True,
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def test_staff_of_another_station_see_nothing(client, foreign_object_and_staff):
    obj, user = foreign_object_and_staff
    client.force_login(user)
    opts = obj._meta
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code in (200, 403)
    urls = _urls(obj)
    assert urls["change"] not in changelist.text
    assert "linhe" not in changelist.text.lower() or changelist.status_code == 403
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code in (403, 404), (name, url, response.status_code)
        posted = client.post(url, {"post": "yes"})
        assert posted.status_code in (403, 404), (name, url, posted.status_code)
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_registration_documents_and_search_stay_within_the_station(client):
    mine = StationFactory(code="shipai")
    theirs = StationFactory(code="linhe")
    registration = RegistrationFactory(station=theirs)
    officer = StaffUserFactory(username="officer-shipai", station=mine)
    client.force_login(officer)
    change_url = reverse("admin:registration_registration_change", args=[registration.pk])
    for term in (registration.reference, registration.resident.surname):
        listing = client.get(reverse("admin:registration_registration_changelist"), {"q": term})
        assert listing.status_code == 200
        assert change_url not in listing.text
    by_reference = reverse(
        "admin:registration_registration_by_reference", args=[registration.reference]
    )
    assert client.get(by_reference).status_code == 404
