"""
The whole journey through the test client, as a resident and an officer would walk it:
station page → form → a validation error (photos kept) → corrected submit → receipt →
private link → new address → staff marks registered → resident notified in their language.
"""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from registration.constants import RegistrationStatus
from registration.models import Document, Registration
from tests.registration.factories import form_data, photos

pytestmark = pytest.mark.django_db

TEXTS = {
    "en": {
        "register": "Register my stay",
        "check": "Check your answers",
        "receipt": "Your private link",
        "kept": "Your photos are kept",
        "subject_confirmation": "Receipt of your residence registration",
        "subject_registered": "Your stay is registered",
    },
    "zh-hans": {
        "register": "办理住宿登记",
        "check": "核对您填写的信息",
        "receipt": "您的专属链接",
        "kept": "您的照片已保存",
        "subject_confirmation": "住宿登记回执",
        "subject_registered": "您的住宿已登记",
    },
    # A Korean student's phone: every page and every message in Korean.
    "ko": {
        "register": "숙박 등록하기",
        "check": "입력 내용을 확인하세요",
        "receipt": "개인 링크",
        "kept": "사진은 저장되어 있습니다",
        "subject_confirmation": "숙박 등록 확인서",
        "subject_registered": "숙박 등록 완료",
    },
}


def _link_path(url: str) -> str:
    return re.sub(r"^https://linli\.example\.org", "", url)


@pytest.mark.parametrize("language", list(TEXTS))
def test_resident_registers_updates_address_and_is_told_when_registered(
    client, station, officer, language, django_capture_on_commit_callbacks
):
    texts = TEXTS[language]
    client.cookies["django_language"] = language

    # The station page leads to the form.
    station_page = client.get(reverse("stations:station", args=[station.code]))
    register_url = reverse("registration:register", args=[station.code])
    assert register_url in station_page.text
    form_page = client.get(register_url)
    assert form_page.status_code == 200
    assert texts["register"] in form_page.text
    assert 'type="date"' in form_page.text

    # A mistake in one field: the photos are kept and shown as thumbnails.
    first = client.post(
        register_url, {**form_data(surname="", preferred_language=language), **photos()}
    )
    assert first.status_code == 400  # the form comes back with its errors
    assert first.context["form"].errors.as_data()["surname"][0].code == "required"
    assert texts["kept"] in first.text
    assert (
        first.text.count(
            reverse("registration:attempt_photo", args=["00000000-0000-0000-0000-000000000000"])[
                :-37
            ]
        )
        >= 3
    )
    assert Document.objects.filter(attempt__isnull=False).count() == 3

    # Corrected, without sending the photos again: the review step, then submit.
    data = form_data(preferred_language=language)
    review = client.post(register_url, data)
    assert review.status_code == 200
    assert texts["check"] in review.text
    assert not Registration.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        submitted = client.post(register_url, {**data, "step": "submit"})
    assert submitted.status_code == 302
    registration = Registration.objects.get()
    assert registration.documents.count() == 3
    assert registration.resident.surname == "Diallo"

    receipt = client.get(submitted["Location"])
    assert receipt.status_code == 200
    assert registration.reference in receipt.text
    assert texts["receipt"] in receipt.text
    private_link = receipt.context["private_link"]
    assert private_link and private_link in receipt.text
    assert "<svg" in receipt.text
    # The private link is shown once.
    assert private_link not in client.get(submitted["Location"]).text

    # The confirmation email went out in the resident's language, with the link.
    assert len(mail.outbox) == 1
    assert texts["subject_confirmation"] in mail.outbox[0].subject
    assert private_link in mail.outbox[0].body

    # Through the private link: status, then a new address (pre-filled).
    page = client.get(_link_path(private_link))
    assert page.status_code == 200
    assert registration.reference in page.text
    move_url = reverse("registration:update_move", args=[_link_path(private_link).split("/")[-2]])
    move_form = client.get(move_url)
    assert move_form.context["form"].initial["host_name"] == "Wang Fang"
    move = {
        key: data[key]
        for key in (
            "arrival_at",
            "expected_departure",
            "stay_reason",
            "school_or_employer",
            "accommodation_type",
            "host_name",
            "host_phone",
            "consent",
        )
    }
    move["address"] = "Building 9, Room 1203, Tianhe North Road"
    with django_capture_on_commit_callbacks(execute=True):
        moved = client.post(move_url, move)
    assert moved.status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.ENDED
    new = Registration.objects.exclude(pk=registration.pk).get()
    assert new.previous == registration
    assert new.resident == registration.resident
    assert new.address.startswith("Building 9")
    assert client.get(_link_path(private_link)).context["registration"] == new

    # Staff mark the new registration registered from the admin.
    mail.outbox = []
    client.force_login(officer)
    with translation.override("zh-hans"):
        change = client.get(reverse("admin:registration_registration_change", args=[new.pk]))
    assert change.status_code == 200
    review_url = reverse("admin:registration_registration_review", args=[new.pk, "registered"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(review_url).status_code == 302
    new.refresh_from_db()
    assert new.status == RegistrationStatus.REGISTERED
    assert new.decided_by == officer
    assert len(mail.outbox) == 1
    assert texts["subject_registered"] in mail.outbox[0].subject
    assert new.history.first().history_user == officer
