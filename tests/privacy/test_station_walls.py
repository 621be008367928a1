"""
Stations are walls for writes as for reads (issue 13, attack 2).

An officer of station B erases, anonymises or acts in bulk only on B's own registrations and
cases, even when the resident is also known to station A; personal data goes only on the
resident's confirmed request or by a retention rule; every station whose data changed
reads the audit entry.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from privacy.constants import AuditAction
from privacy.models import AuditEntry
from registration import services
from registration.constants import ErrorCode
from registration.models import Document, Registration, Resident
from registration.retention import registrations_ended_expire
from tests.privacy.factories import (
    A_ADDRESS,
    A_DOCUMENT,
    B_SURNAME,
    registration_end,
)
from tests.registration.factories import RegistrationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:registration_registration_changelist"
NOT_REQUESTED = "the resident has not asked for deletion"


def _erase(client, *pks, language="en", **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": "erase_personal_data", "_selected_action": [str(pk) for pk in pks], **extra},
        headers={"accept-language": language},
        follow=True,
    )


def _untouched(registration) -> bool:
    registration.refresh_from_db()
    return registration.anonymised_at is None and registration.address != ""


# -- erasure ------------------------------------------------------------------------------
def test_officer_cannot_erase_other_station_registration_of_shared_resident(
    client, shared, officer_b, django_capture_on_commit_callbacks
):
    """The attack: B's officer erases B's registration of a resident A also holds."""
    services.registration_deletion_request(registration=shared.at_b)
    registration_end(shared.at_b)
    client.force_login(officer_b)
    with django_capture_on_commit_callbacks(execute=True):
        response = _erase(client, shared.at_b.pk)
    assert response.status_code == 200
    shared.at_b.refresh_from_db()
    assert shared.at_b.anonymised_at is not None
    # A's registration, its photo and the resident A still needs are untouched.
    assert _untouched(shared.at_a)
    assert shared.at_a.address == A_ADDRESS
    assert Document.objects.filter(registration=shared.at_a).exists()
    assert default_storage.exists(shared.a_photo)
    resident = Resident.objects.get(pk=shared.resident.pk)
    assert resident.anonymised_at is None and resident.surname == B_SURNAME
    # Filed under B only: nothing of A's changed.
    erased = AuditEntry.objects.filter(action=AuditAction.ERASE)
    assert {entry.station.code for entry in erased} == {"shipai"}


def test_forged_selection_of_another_stations_registration_erases_nothing(
    client, shared, officer_b
):
    """B's officer posts A's registration (with A's own deletion request) to the action."""
    services.registration_deletion_request(registration=shared.at_b)  # reaches A's too
    shared.at_a.refresh_from_db()
    assert shared.at_a.deletion_requested_at is not None
    client.force_login(officer_b)
    response = _erase(client, shared.at_a.pk)
    assert response.status_code == 200
    assert _untouched(shared.at_a)
    response = _erase(client, shared.at_a.pk, select_across="1", index="0")
    assert response.status_code == 200
    assert _untouched(shared.at_a)
    assert not AuditEntry.objects.filter(action=AuditAction.ERASE).exists()


def test_service_refuses_an_actor_of_another_station(shared, officer_b):
    services.registration_deletion_request(registration=shared.at_b)
    with pytest.raises(PermissionDenied):
        services.resident_erase(registration=shared.at_a, actor=officer_b)
    assert _untouched(shared.at_a)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", NOT_REQUESTED), ("zh-hans", "居民未申请删除")],
)
def test_erase_without_deletion_request_is_refused(
    client, station_b, officer_b, language, expected
):
    registration = RegistrationFactory(station=station_b)
    registration_end(registration)
    client.force_login(officer_b)
    response = _erase(client, registration.pk, language=language)
    assert response.status_code == 200
    assert expected in response.text.lower()
    assert _untouched(registration)
    assert registration.resident.surname
    assert not AuditEntry.objects.filter(action=AuditAction.ERASE).exists()


def test_service_refuses_erasure_without_request_with_a_stable_code(station_b, officer_b):
    registration = RegistrationFactory(station=station_b)
    registration_end(registration)
    with pytest.raises(ValidationError) as error:
        services.resident_erase(registration=registration, actor=officer_b)
    assert error.value.code == ErrorCode.ERASE_NOT_REQUESTED


def test_erase_takes_only_the_registrations_the_resident_asked_to_delete(station_b, officer_b):
    requested = RegistrationFactory(station=station_b)
    not_requested = RegistrationFactory(station=station_b, resident=requested.resident)
    services.registration_deletion_request(registration=requested)
    registration_end(requested)
    registration_end(not_requested)
    assert services.resident_erase(registration=requested, actor=officer_b) == 1
    assert _untouched(not_requested)
    assert Resident.objects.get(pk=requested.resident_id).anonymised_at is None


def test_deletion_request_through_the_private_link_reaches_the_station_moved_from(
    client, shared, officer_a
):
    """The resident asks once, through B's link; A's staff find it in their own queue."""
    response = client.post(reverse("registration:delete_request", args=[shared.token]))
    assert response.status_code == 302
    for registration in (shared.at_a, shared.at_b):
        registration.refresh_from_db()
        assert registration.deletion_requested_at is not None
    client.force_login(officer_a)
    queue = client.get(reverse(CHANGELIST), {"deletion": "yes"})
    assert queue.status_code == 200
    assert list(queue.context["cl"].result_list) == [shared.at_a]
    _erase(client, shared.at_a.pk)
    shared.at_a.refresh_from_db()
    assert shared.at_a.anonymised_at is not None
    assert _untouched(shared.at_b)  # A's officer erased A's part only
    assert Resident.objects.get(pk=shared.resident.pk).anonymised_at is None


def test_last_erasure_anonymises_the_resident_and_every_station_reads_it(
    client, shared, officer_a, officer_b, manager_a, manager_b
):
    client.post(reverse("registration:delete_request", args=[shared.token]))
    services.resident_erase(registration=shared.at_a, actor=officer_a)
    registration_end(shared.at_b)
    client.force_login(officer_b)
    _erase(client, shared.at_b.pk)
    resident = Resident.objects.get(pk=shared.resident.pk)
    assert resident.anonymised_at is not None and resident.document_number == ""
    assert not resident.history.exists()

    erased_by_b = AuditEntry.objects.filter(action=AuditAction.ERASE, user=officer_b)
    assert {entry.station.code for entry in erased_by_b} == {"shipai", "linhe"}
    # A's manager reads, in A's audit trail, that the resident A holds was anonymised.
    client.force_login(manager_a)
    listing = client.get(reverse("admin:privacy_auditentry_changelist"), {"action": "erase"})
    assert listing.status_code == 200
    shown = list(listing.context["cl"].result_list)
    assert {entry.station.code for entry in shown} == {"linhe"}
    assert any(
        entry.user == officer_b and entry.object_repr == shared.at_a.reference for entry in shown
    )
    assert A_DOCUMENT not in listing.text
    client.force_login(manager_b)
    listing = client.get(reverse("admin:privacy_auditentry_changelist"), {"action": "erase"})
    assert listing.status_code == 200
    assert {entry.station.code for entry in listing.context["cl"].result_list} == {"shipai"}


def test_erasing_twice_erases_and_audits_once(shared, officer_b):
    services.registration_deletion_request(registration=shared.at_b)
    registration_end(shared.at_b)
    assert services.resident_erase(registration=shared.at_b, actor=officer_b) == 1
    assert services.resident_erase(registration=shared.at_b, actor=officer_b) == 0
    assert AuditEntry.objects.filter(action=AuditAction.ERASE).count() == 1


# -- retention ----------------------------------------------------------------------------
def test_retention_keeps_a_resident_another_station_still_needs(
    shared, django_capture_on_commit_callbacks
):
    Registration.objects.filter(pk=shared.at_a.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=400)
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = registrations_ended_expire(now=timezone.now(), dry_run=False)
    assert (outcome.anonymised, outcome.files) == (1, 1)
    shared.at_a.refresh_from_db()
    assert shared.at_a.anonymised_at is not None
    assert not default_storage.exists(shared.a_photo)
    assert _untouched(shared.at_b)
    resident = Resident.objects.get(pk=shared.resident.pk)
    assert resident.anonymised_at is None and resident.surname == B_SURNAME
    entries = AuditEntry.objects.filter(action=AuditAction.ERASE)
    assert [(e.station.code, e.object_repr) for e in entries] == [("linhe", shared.at_a.reference)]


def test_retention_of_the_last_registration_tells_every_station_holding_the_resident(shared):
    long_ago = timezone.now() - datetime.timedelta(days=400)
    registration_end(shared.at_b)
    Registration.objects.filter(pk__in=[shared.at_a.pk, shared.at_b.pk]).update(
        status_changed_at=long_ago
    )
    assert registrations_ended_expire(now=timezone.now(), dry_run=False).anonymised == 2
    assert Resident.objects.get(pk=shared.resident.pk).anonymised_at is not None
    anonymised = AuditEntry.objects.filter(
        action=AuditAction.ERASE, detail=services.RESIDENT_ANONYMISED
    )
    assert {entry.station.code for entry in anonymised} == {"linhe", "shipai"}


def test_inquiries_retention_tells_each_station_what_went(
    station_a, station_b, django_capture_on_commit_callbacks
):
    from inquiries.constants import Status
    from inquiries.models import Inquiry
    from inquiries.retention import cases_closed_expire
    from tests.test_admin_scoping import _inquiry

    cases = [_inquiry(station_a), _inquiry(station_b), _inquiry(station_b)]
    long_ago = timezone.now() - datetime.timedelta(days=4000)
    Inquiry.objects.filter(pk__in=[c.pk for c in cases]).update(
        status=Status.CLOSED, closed_at=long_ago
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert cases_closed_expire(now=timezone.now(), dry_run=False).deleted == 3
    details = dict(
        AuditEntry.objects.filter(action=AuditAction.ERASE).values_list("station__code", "detail")
    )
    assert details == {
        "linhe": "inquiries.cases_closed: 1 closed cases deleted",
        "shipai": "inquiries.cases_closed: 2 closed cases deleted",
    }


# -- every bulk action --------------------------------------------------------------------
def _registration(station):
    return RegistrationFactory(station=station)


def _registration_to_erase(station):
    registration = RegistrationFactory(station=station)
    services.registration_deletion_request(registration=registration)
    registration_end(registration)
    return registration


def _case(station):
    from tests.test_admin_scoping import _inquiry

    return _inquiry(station)


def _round(station):
    from tests.inquiries.factories import CheckInRoundFactory

    return CheckInRoundFactory(station=station)


def _message(status):
    def build(station):
        from notifications.models import Message
        from tests.notifications.factories import MessageFactory

        message = MessageFactory(station=station)
        Message.objects.filter(pk=message.pk).update(status=status)
        return message

    return build


# (model, action) -> (what the attacker selects, of station A; what else they post)
ACTION_TARGETS = {
    ("registration.registration", "mark_registered"): (_registration, {}),
    ("registration.registration", "request_correction"): (
        _registration,
        {"apply": "1", "message": "Send it again."},
    ),
    ("registration.registration", "reject"): (_registration, {"apply": "1", "message": "No."}),
    ("registration.registration", "erase_personal_data"): (_registration_to_erase, {}),
    ("inquiries.inquiry", "assign_to_me"): (_case, {}),
    ("inquiries.inquiry", "assign_to"): (_case, {"apply": "1"}),
    ("inquiries.checkinround", "send_round"): (_round, {}),
    ("notifications.message", "retry_messages"): (_message("failed"), {}),
    ("notifications.message", "cancel_messages"): (_message("created"), {}),
    ("stations.station", "print_billboards"): (
        lambda station: station,
        {"apply": "1", "size": "A4", "purpose": "both"},
    ),
}
LINLI_APPS = {"stations", "privacy", "notifications", "registration", "inquiries"}


def test_every_bulk_action_of_every_linli_admin_is_tried():
    from django.contrib import admin

    declared = {
        (model._meta.label_lower, action if isinstance(action, str) else action.__name__)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in LINLI_APPS
        for action in (model_admin.actions or [])
    }
    assert declared == set(ACTION_TARGETS)


@pytest.mark.parametrize(("label", "action"), sorted(ACTION_TARGETS), ids=lambda value: str(value))
@pytest.mark.parametrize("select_across", ["0", "1"])
def test_bulk_action_on_another_stations_object_touches_nothing(
    client, station_a, station_b, manager_b, label, action, select_across
):
    build, extra = ACTION_TARGETS[(label, action)]
    target = build(station_a)
    model = type(target)
    before = model.objects.filter(pk=target.pk).values().get()
    app_label, model_name = label.split(".")
    client.force_login(manager_b)
    response = client.post(
        reverse(f"admin:{app_label}_{model_name}_changelist"),
        {
            "action": action,
            "_selected_action": [str(target.pk)],
            "select_across": select_across,
            "index": "0",
            "assignee": str(manager_b.pk),
            **extra,
        },
    )
    # 302 back to the list, or 200: a form page, or the billboards PDF (public anyway).
    assert response.status_code in (200, 302)
    assert model.objects.filter(pk=target.pk).values().get() == before
    assert not AuditEntry.objects.filter(station=station_a).exclude(action="view").exists()


def test_assign_form_for_another_stations_case_lists_no_one(
    client, station_a, station_b, manager_b, officer_a
):
    """A forged selection must not make the assign form list the whole city's staff."""
    case = _case(station_a)
    client.force_login(manager_b)
    response = client.post(
        reverse("admin:inquiries_inquiry_changelist"),
        {"action": "assign_to", "_selected_action": [str(case.pk)], "index": "0"},
    )
    assert response.status_code == 200
    assert officer_a.username not in response.text
    assert response.context["no_candidates"]
