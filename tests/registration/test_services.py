"""Services: submitting, matching residents, updates, the status rules and their history."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from core.crypto import normalise_document_number
from core.references import reference_new
from privacy.constants import AuditAction
from privacy.models import AuditEntry
from registration import services
from registration.constants import (
    TRANSITIONS,
    AmendmentKind,
    Decision,
    EndReason,
    RegistrationStatus,
)
from registration.forms import RegistrationForm
from registration.models import Amendment, Document, Resident
from registration.selectors import registration_get_by_token, residents_for_check_in
from tests.registration.factories import (
    RegistrationFactory,
    ResidentFactory,
    form_data,
    photo_upload,
    registration_with_token,
)

pytestmark = pytest.mark.django_db
S = RegistrationStatus


def _data(station, **overrides):
    form = RegistrationForm(
        form_data(**overrides),
        station=station,
        photos_present={"passport_page", "visa_page", "entry_stamp"},
    )
    assert form.is_valid(), form.errors
    return form.service_data()


def _attempt_with_photos(station):
    _raw, attempt = services.attempt_start(station=station)
    for kind in ("passport_page", "visa_page", "entry_stamp"):
        services.attempt_photo_add(attempt=attempt, kind=kind, uploaded_file=photo_upload())
    return attempt


def test_submit_saves_everything_and_queues_the_confirmation(
    station, django_capture_on_commit_callbacks
):
    attempt = _attempt_with_photos(station)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = services.registration_submit(
            station=station, data=_data(station), attempt=attempt, language="en"
        )
    registration = submitted.registration
    assert registration.status == S.SUBMITTED
    assert registration.documents.count() == 3
    assert not Document.objects.filter(attempt__isnull=False).exists()
    assert registration.deadline_at == registration.arrival_at + datetime.timedelta(hours=24)
    assert registration.consent_notice_version and registration.consent_given_at
    assert registration_get_by_token(token=submitted.token) == registration
    assert registration.token_hash != submitted.token
    assert len(mail.outbox) == 1 and submitted.token in mail.outbox[0].body
    assert registration.amendments.get().kind == AmendmentKind.SUBMITTED


def test_reference_is_short_and_unambiguous(station):
    reference = reference_new(prefix=services.reference_prefix(station))
    prefix, first, second = reference.split("-")
    assert prefix == "SH" and len(first) == len(second) == 4
    assert not set(first + second) & set("01ILOU")


def test_document_and_visa_numbers_are_encrypted_at_rest(station):
    submitted = services.registration_submit(
        station=station, data=_data(station), attempt=None, language="en"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT document_number FROM registration_resident WHERE id = %s",
            [submitted.registration.resident_id],
        )
        stored = cursor.fetchone()[0]
        cursor.execute(
            "SELECT visa_number FROM registration_registration WHERE id = %s",
            [submitted.registration.pk],
        )
        stored_visa = cursor.fetchone()[0]
        cursor.execute("SELECT document_number FROM registration_historicalresident")
        stored_history = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT visa_number FROM registration_historicalregistration")
        stored_history += [row[0] for row in cursor.fetchall()]
    assert "A12345678" not in stored and stored.startswith("gAAAA")
    assert "V1234567" not in stored_visa
    assert stored_history and all(value.startswith("gAAAA") for value in stored_history)
    assert Resident.objects.get().document_number == "A12345678"


def test_a_rotated_key_still_decrypts_old_values(station, settings):
    from cryptography.fernet import Fernet

    resident = ResidentFactory(document_number="E7654321")
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    assert Resident.objects.get(pk=resident.pk).document_number == "E7654321"


def test_a_second_public_submission_with_the_same_document_is_a_new_resident(station):
    first = services.registration_submit(
        station=station, data=_data(station), attempt=None, language="en"
    )
    second = services.registration_submit(
        station=station,
        data=_data(station, document_number="a12345678", email="new@example.org"),
        attempt=None,
        language="en",
    )
    assert second.registration.resident_id != first.registration.resident_id
    earlier = Resident.objects.get(pk=first.registration.resident_id)
    assert earlier.email == "aminata@example.org"
    assert earlier.history.count() == 1  # never changed by the second form
    assert second.registration.resident.email == "new@example.org"
    # Both records carry the same blind index: a match staff may confirm, nothing more.
    assert earlier.document_number_index == second.registration.resident.document_number_index


def test_same_number_of_another_nationality_is_another_resident(station):
    services.registration_submit(station=station, data=_data(station), attempt=None, language="en")
    services.registration_submit(
        station=station, data=_data(station, nationality="FR"), attempt=None, language="en"
    )
    assert Resident.objects.count() == 2


def test_blind_index_normalises_spacing_and_case():
    assert normalise_document_number(" e 1234-5678 ") == "E12345678"


# -- status rules --------------------------------------------------------------
ACTIONS = {
    S.REGISTERED: lambda r, u: services.registration_mark_registered(registration=r, actor=u),
    S.CORRECTION_REQUESTED: lambda r, u: services.registration_request_correction(
        registration=r, actor=u, message="Photo of the entry stamp is blurred."
    ),
    S.REJECTED: lambda r, u: services.registration_reject(
        registration=r, actor=u, message="Not in our area."
    ),
    S.ENDED: lambda r, u: services.registration_end(
        registration=r, reason=EndReason.STAFF, actor=u
    ),
    S.RESUBMITTED: lambda r, u: services.registration_correct(
        registration=r, data={"host_name": "Li Lei"}, attempt=None
    ),
}
FORBIDDEN = [
    (source, target)
    for source in S.values
    for target in ACTIONS
    if target not in TRANSITIONS[source]
]
ALLOWED = [
    (source, target) for source in S.values for target in ACTIONS if target in TRANSITIONS[source]
]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_forbidden_transition_is_refused_and_changes_nothing(station, officer, source, target):
    registration = RegistrationFactory(station=station, status=source)
    with pytest.raises(ValidationError) as raised:
        ACTIONS[target](registration, officer)
    assert raised.value.code == "transition_not_allowed"
    registration.refresh_from_db()
    assert registration.status == source
    assert not registration.amendments.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_allowed_transition_is_recorded(station, officer, source, target):
    registration = RegistrationFactory(station=station, status=source)
    ACTIONS[target](registration, officer)
    registration.refresh_from_db()
    assert registration.status == target
    amendment = registration.amendments.get()
    assert (amendment.status_before, amendment.status_after) == (source, target)


def test_correction_and_rejection_need_a_message(station, officer):
    registration = RegistrationFactory(station=station)
    for action in (services.registration_request_correction, services.registration_reject):
        with pytest.raises(ValidationError) as raised:
            action(registration=registration, actor=officer, message="  ")
        assert raised.value.error_dict["message"][0].code == "message_required"


def test_staff_decision_records_who_and_notifies_in_the_residents_language(
    station, officer, django_capture_on_commit_callbacks
):
    registration = RegistrationFactory(station=station, resident__preferred_language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_request_correction(
            registration=registration, actor=officer, message="请重新拍摄入境章。"
        )
    registration.refresh_from_db()
    assert registration.decided_by == officer
    assert registration.history.first().history_user == officer
    assert registration.amendments.get().staff_user == officer
    assert "请补正住宿登记" in mail.outbox[0].subject
    assert "请重新拍摄入境章。" in mail.outbox[0].body


def test_resident_preferring_sms_gets_an_sms_too(
    station, officer, django_capture_on_commit_callbacks
):
    from notifications import sms

    registration = RegistrationFactory(station=station, resident__preferred_channel="sms")
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_mark_registered(registration=registration, actor=officer)
    assert len(mail.outbox) == 1
    assert len(sms.outbox) == 1 and registration.reference in sms.outbox[0].body


# -- updates by the resident ------------------------------------------------------
def test_renewed_visa_goes_back_to_the_staff_queue(station):
    registration = RegistrationFactory(station=station, status=S.REGISTERED)
    _raw, attempt = services.attempt_start()
    services.attempt_photo_add(attempt=attempt, kind="visa_page", uploaded_file=photo_upload())
    new_until = registration.visa_valid_until + datetime.timedelta(days=365)
    services.registration_visa_renew(
        registration=registration,
        visa_type="residence_permit",
        visa_number="RP998877",
        visa_valid_until=new_until,
        attempt=attempt,
    )
    registration.refresh_from_db()
    assert registration.status == S.RESUBMITTED
    assert registration.visa_valid_until == new_until
    assert registration.documents.filter(kind="visa_page").count() == 1
    assert registration.amendments.get().kind == AmendmentKind.VISA
    previous = registration.history.all()[1]
    assert previous.visa_valid_until != new_until  # history keeps the old date


def test_new_travel_document_updates_the_resident_and_its_index(station):
    registration = RegistrationFactory(station=station, status=S.REGISTERED)
    services.resident_travel_document_update(
        registration=registration,
        document_type="passport",
        document_number="N0001112",
        document_expiry=timezone.localdate() + datetime.timedelta(days=3000),
        attempt=None,
    )
    resident = Resident.objects.get(pk=registration.resident_id)
    assert resident.document_number == "N0001112"
    from registration.selectors import resident_find

    assert (
        resident_find(nationality=resident.nationality.code, document_number="n0001112") == resident
    )


def test_contact_update_needs_no_review(station):
    registration = RegistrationFactory(station=station, status=S.REGISTERED)
    services.resident_contact_update(
        registration=registration, data={"email": "new@example.org", "contact_consent": False}
    )
    registration.refresh_from_db()
    assert registration.status == S.REGISTERED
    assert registration.resident.email == "new@example.org"


def test_departure_ends_the_registration(station):
    registration = RegistrationFactory(station=station)
    services.registration_depart(registration=registration, departed_on=timezone.localdate())
    registration.refresh_from_db()
    assert registration.status == S.ENDED
    assert registration.end_reason == EndReason.DEPARTED


@pytest.mark.parametrize(
    ("days", "code"), [(1, "departure_future"), (-30, "departure_before_stay")]
)
def test_departure_date_must_be_plausible(station, days, code):
    registration = RegistrationFactory(station=station)
    with pytest.raises(ValidationError) as raised:
        services.registration_depart(
            registration=registration,
            departed_on=timezone.localdate() + datetime.timedelta(days=days),
        )
    assert raised.value.error_dict["departed_on"][0].code == code


def test_ended_registration_cannot_be_updated(station):
    registration = RegistrationFactory(station=station, status=S.ENDED)
    with pytest.raises(ValidationError) as raised:
        services.resident_contact_update(registration=registration, data={"email": "x@example.org"})
    assert raised.value.code == "not_active"


def test_move_makes_a_new_registration_and_keeps_the_link(station, other_station):
    registration, token = registration_with_token(station=station, status=S.REGISTERED)
    submitted = services.registration_move(
        registration=registration,
        data={
            "address": "Room 9, Linhe Road",
            "arrival_at": timezone.now() - datetime.timedelta(hours=1),
            "expected_departure": timezone.localdate() + datetime.timedelta(days=90),
            "station": other_station,
        },
        attempt=None,
        language="en",
        token=token,
    )
    registration.refresh_from_db()
    assert registration.status == S.ENDED and registration.end_reason == EndReason.MOVED
    new = submitted.registration
    assert new.station == other_station
    assert new.previous == registration
    assert new.visa_number == registration.visa_number  # pre-filled from the old one
    assert registration_get_by_token(token=token) == new


def test_lost_link_sends_a_new_link_only_when_details_match(
    station, django_capture_on_commit_callbacks
):
    registration, old_token = registration_with_token(station=station)
    number = registration.resident.document_number
    assert not services.registration_link_resend(
        reference=registration.reference, document_number="WRONG1"
    )
    assert not services.registration_link_resend(reference="SH-2222-2222", document_number=number)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.registration_link_resend(
            reference=registration.reference.lower().replace("-", " "), document_number=number
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [registration.resident.email]
    new_token = re.search(r"/registration/r/([A-Za-z0-9_-]+)/", mail.outbox[0].body).group(1)
    # The old link works until the new one is opened; then only the new one does.
    assert registration_get_by_token(token=old_token) == registration
    assert registration_get_by_token(token=new_token) is None
    assert services.registration_link_claim(token=new_token) == registration
    assert registration_get_by_token(token=new_token) == registration
    assert registration_get_by_token(token=old_token) is None
    assert services.registration_link_claim(token=new_token) is None  # claimed once


def test_residents_for_check_in_are_active_consenting_and_distinct(station, other_station):
    resident = ResidentFactory()
    RegistrationFactory(station=station, resident=resident)
    RegistrationFactory(station=station, resident=resident, status=S.REGISTERED)
    RegistrationFactory(station=station, resident__contact_consent=False)
    RegistrationFactory(station=station, status=S.ENDED)
    RegistrationFactory(station=other_station)
    assert list(residents_for_check_in(station=station)) == [resident]


def test_old_attempts_are_deleted_with_their_files(station, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    _raw, attempt = services.attempt_start(station=station)
    document = services.attempt_photo_add(
        attempt=attempt, kind="lease", uploaded_file=photo_upload()
    )
    name = document.file.name
    assert default_storage.exists(name)
    later = timezone.now() + datetime.timedelta(hours=49)
    assert services.attempts_delete_old(now=timezone.now()) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.attempts_delete_old(now=later) == 1
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not default_storage.exists(name)


def test_stored_photo_is_encrypted_and_has_a_random_name(station):
    from django.core.files.storage import default_storage

    _raw, attempt = services.attempt_start(station=station)
    document = services.attempt_photo_add(
        attempt=attempt, kind="passport_page", uploaded_file=photo_upload("my passport.jpg")
    )
    assert "passport" not in document.file.name
    with default_storage.open(document.file.name, "rb") as handle:
        raw = handle.read()
    assert not raw.startswith(b"\xff\xd8")  # not a JPEG on disk
    from registration.documents import document_file_read

    assert document_file_read(name=document.file.name).startswith(b"\xff\xd8")


def test_amendments_are_listed_for_the_timeline(station, officer):
    registration = RegistrationFactory(station=station)
    services.registration_mark_registered(registration=registration, actor=officer)
    assert [a.kind for a in Amendment.objects.all()] == [AmendmentKind.REGISTERED]


# ------------------------------------------------------------------------------
# Decisions: one service, audited only once they took effect
# ------------------------------------------------------------------------------
def _decisions_audited(registration):
    return list(
        AuditEntry.objects.filter(
            action=AuditAction.DECISION, object_id=str(registration.pk)
        ).values_list("detail", flat=True)
    )


@pytest.mark.parametrize(
    ("decision", "status"),
    [
        (Decision.REGISTERED, S.REGISTERED),
        (Decision.CORRECTION, S.CORRECTION_REQUESTED),
        (Decision.REJECT, S.REJECTED),
    ],
)
def test_decide_applies_the_decision_and_audits_it(station, officer, decision, status):
    registration = RegistrationFactory(station=station)
    services.registration_decide(
        registration=registration, actor=officer, decision=decision, message="Please check."
    )
    registration.refresh_from_db()
    assert registration.status == status
    assert _decisions_audited(registration) == [decision.value]


def test_a_decision_without_its_message_is_refused_and_not_audited(station, officer):
    registration = RegistrationFactory(station=station)
    with pytest.raises(ValidationError) as raised:
        services.registration_decide(
            registration=registration, actor=officer, decision=Decision.REJECT, message=" "
        )
    assert raised.value.error_dict["message"][0].code == "message_required"
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED
    assert _decisions_audited(registration) == []


def test_an_unknown_decision_changes_nothing(station, officer):
    registration = RegistrationFactory(station=station)
    with pytest.raises(ValueError):
        services.registration_decide(registration=registration, actor=officer, decision="approve")
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED
    assert _decisions_audited(registration) == []


def test_decide_many_counts_decided_and_refused_each_on_its_own(station, officer):
    waiting = RegistrationFactory(station=station)
    ended = RegistrationFactory(station=station, status=S.ENDED)
    decided, refused = services.registration_decide_many(
        registrations=[ended, waiting], actor=officer, decision=Decision.REGISTERED
    )
    assert (decided, refused) == (1, 1)
    waiting.refresh_from_db()
    assert waiting.status == S.REGISTERED
    assert _decisions_audited(ended) == []


def test_erase_many_counts_refusals_by_code(station, officer):
    not_asked = RegistrationFactory(station=station, status=S.ENDED)
    active = RegistrationFactory(station=station)
    services.registration_deletion_request(registration=active)
    erased = services.resident_erase_many(registrations=[not_asked, active], actor=officer)
    assert erased.count == 0
    assert erased.refused == {"erase_not_requested": 1, "erase_active": 1}
