"""
Who may open personal data: every personal-data URL, tried by an anonymous visitor, another
resident's token, an expired token, an officer of another station, and a staff user who
has not passed the second factor in production mode.
"""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.tokens import token_new
from inquiries.models import CheckInInvitation, InquiryFeedback
from tests.inquiries.factories import CheckInRoundFactory
from tests.registration.factories import registration_with_token
from tests.registration.test_admin import _with_photo
from tests.stations.factories import StaffUserFactory, StationFactory
from tests.test_admin_scoping import _inquiry

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
TOKEN_PAGES = [
    "private",
    "update_move",
    "update_visa",
    "update_document",
    "update_contact",
    "update_left",
    "update_correct",
    "my_data",
    "delete_request",
]


@pytest.fixture
def world():
    mine, theirs = StationFactory(code="shipai"), StationFactory(code="linhe")
    registration, token = registration_with_token(station=theirs)
    other_registration, other_token = registration_with_token(station=theirs)
    document = _with_photo(registration)
    submitted = _inquiry_with_token(theirs)
    return {
        "mine": mine,
        "theirs": theirs,
        "registration": registration,
        "token": token,
        "other_token": other_token,
        "other_registration": other_registration,
        "document": document,
        "case_token": submitted,
    }


def _inquiry_with_token(station):
    from inquiries.constants import Category, ContactMethod, ContactTime, Urgency
    from inquiries.services import inquiry_submit

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
    ).token


def _staff_document_url(world):
    return reverse("registration:staff_document", args=[world["document"].public_id])


def test_anonymous_visitors_reach_nothing_without_a_valid_token(client, world):
    bogus = token_new()[0]
    for name in TOKEN_PAGES:
        assert client.get(reverse(f"registration:{name}", args=[bogus])).status_code == 404
    assert client.get(reverse("inquiries:case", args=[bogus])).status_code == 404
    assert client.get(reverse("inquiries:feedback", args=[bogus])).status_code == 404
    assert client.get(reverse("inquiries:check_in", args=[bogus])).status_code == 404
    assert client.get(_staff_document_url(world)).status_code in (302, 403)
    receipt = client.get(reverse("registration:receipt"))
    assert receipt.status_code in (302, 404)
    admin_page = client.get(
        reverse("admin:registration_registration_change", args=[world["registration"].pk])
    )
    assert admin_page.status_code == 302 and "/admin/login/" in admin_page["Location"]


def test_another_residents_token_opens_only_their_own_data(client, world):
    document = world["document"]
    own_photo = reverse("registration:private_photo", args=[world["token"], document.public_id])
    their_photo = reverse(
        "registration:private_photo", args=[world["other_token"], document.public_id]
    )
    assert client.get(own_photo).status_code == 200
    assert client.get(their_photo).status_code == 404
    data = client.get(reverse("registration:my_data", args=[world["other_token"]]))
    assert data.status_code == 200
    assert world["registration"].reference not in data.content.decode()
    assert world["registration"].resident.surname not in data.content.decode()


def test_expired_feedback_and_check_in_links_are_gone(client, world):
    inquiry = _inquiry(world["theirs"])
    raw, digest = token_new()
    InquiryFeedback.objects.create(
        inquiry=inquiry, token_hash=digest, expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    assert client.get(reverse("inquiries:feedback", args=[raw])).status_code == 410
    check_in_raw, check_in_digest = token_new()
    CheckInInvitation.objects.create(
        round=CheckInRoundFactory(station=world["theirs"]),
        resident=world["registration"].resident,
        token_hash=check_in_digest,
        language="en",
        channel="email",
        expires_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    assert client.get(reverse("inquiries:check_in", args=[check_in_raw])).status_code == 410


def test_officer_of_another_station_gets_404_on_every_staff_url(client, world):
    officer = StaffUserFactory(username="officer-shipai", station=world["mine"])
    officer.user_permissions.add(Permission.objects.get(codename="view_document"))
    client.force_login(officer)
    registration = world["registration"]
    assert client.get(_staff_document_url(world)).status_code == 404
    for name in ("change", "history"):
        url = reverse(f"admin:registration_registration_{name}", args=[registration.pk])
        assert client.get(url).status_code == 404, name
    url = reverse("admin:registration_resident_change", args=[registration.resident_id])
    assert client.get(url).status_code == 404


@override_settings(LINLI_REQUIRE_2FA=True)
def test_staff_without_the_second_factor_reach_no_personal_data(client, world):
    officer = StaffUserFactory(username="officer-linhe", station=world["theirs"])
    officer.set_password(PASSWORD)
    officer.save()
    officer.user_permissions.add(Permission.objects.get(codename="view_document"))
    client.post(reverse("admin:login"), {"username": officer.username, "password": PASSWORD})
    assert client.get(_staff_document_url(world)).status_code in (302, 403)
    for url in (
        reverse("admin:registration_registration_change", args=[world["registration"].pk]),
        reverse("admin:registration_registration_export"),
        reverse("admin:inquiries_inquiry_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
