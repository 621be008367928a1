"""The review queue in the admin: scoping, search, photos beside the data, decisions."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from privacy.constants import AuditAction
from privacy.models import AuditEntry
from registration import services
from registration.constants import Decision, RegistrationStatus
from registration.models import Document, Registration
from registration.selectors import document_number_index
from stations.constants import GROUP_CITY_ADMIN, GROUP_MANAGER, GROUP_OFFICER
from tests.registration.factories import RegistrationFactory, jpeg_bytes, photo_upload
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
S = RegistrationStatus
CHANGELIST = reverse("admin:registration_registration_changelist")


def change_url(registration):
    return reverse("admin:registration_registration_change", args=[registration.pk])


def _results(client, term):
    response = client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    return response.context["cl"].result_list


def _with_photo(registration):
    _raw, attempt = services.attempt_start()
    document = services.attempt_photo_add(
        attempt=attempt, kind="passport_page", uploaded_file=photo_upload(data=jpeg_bytes())
    )
    Document.objects.filter(pk=document.pk).update(registration=registration, attempt=None)
    return Document.objects.get(pk=document.pk)


def test_groups_get_the_registration_permissions(db):
    for name in (GROUP_OFFICER, GROUP_MANAGER, GROUP_CITY_ADMIN):
        codenames = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert {"view_registration", "review_registration", "view_document"} <= codenames


def test_officer_sees_only_their_stations_registrations(client, station, other_station, officer):
    mine = RegistrationFactory(station=station)
    theirs = RegistrationFactory(station=other_station)
    client.force_login(officer)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert mine.reference in page.text and theirs.reference not in page.text
    assert client.get(change_url(mine)).status_code == 200
    assert client.get(change_url(theirs)).status_code == 404
    history = reverse("admin:registration_registration_history", args=[theirs.pk])
    assert client.get(history).status_code == 404
    review = reverse("admin:registration_registration_review", args=[theirs.pk, "registered"])
    assert client.post(review).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == S.SUBMITTED


def test_search_never_reaches_another_station(client, station, other_station, officer):
    theirs = RegistrationFactory(station=other_station)
    client.force_login(officer)
    for term in (theirs.reference, theirs.resident.document_number, theirs.resident.surname):
        assert list(_results(client, term)) == []


def test_city_administrator_sees_every_station(client, station, other_station):
    city = StaffUserFactory()
    city.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    a, b = RegistrationFactory(station=station), RegistrationFactory(station=other_station)
    client.force_login(city)
    page = client.get(CHANGELIST).text
    assert a.reference in page and b.reference in page


@pytest.mark.parametrize(
    "term",
    [
        lambda r: r.reference,
        lambda r: r.reference.lower(),
        lambda r: r.resident.surname,
        lambda r: r.resident.document_number,
        lambda r: " " + r.resident.document_number.lower() + " ",
        lambda r: r.visa_number,
        lambda r: "138 0013 8000",
    ],
    ids=["reference", "reference-lower", "name", "document", "document-spaced", "visa", "phone"],
)
def test_search_finds_by_reference_name_document_visa_and_phone(client, station, officer, term):
    wanted = RegistrationFactory(station=station, resident__phone="+8613800138000")
    RegistrationFactory(station=station, resident__phone="+8613900139000")  # not found
    client.force_login(officer)
    assert list(_results(client, term(wanted))) == [wanted]


def test_partial_document_number_does_not_match(client, station, officer):
    wanted = RegistrationFactory(station=station)
    client.force_login(officer)
    assert list(_results(client, wanted.resident.document_number[:-1])) == []


def test_overdue_submission_is_highlighted(client, station, officer):
    RegistrationFactory(
        station=station,
        arrival_at=timezone.now() - datetime.timedelta(hours=30),
        deadline_at=timezone.now() - datetime.timedelta(hours=6),
    )
    client.force_login(officer)
    assert "linli-overdue" in client.get(CHANGELIST).text
    assert "linli-overdue" in client.get(CHANGELIST, {"queue": "overdue"}).text


def test_changelist_query_count_does_not_grow(client, station, officer, django_assert_num_queries):
    client.force_login(officer)
    RegistrationFactory.create_batch(2, station=station)
    client.get(CHANGELIST)  # warm caches (content types, permissions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(CHANGELIST).status_code == 200
    RegistrationFactory.create_batch(20, station=station)
    with django_assert_num_queries(len(few)):
        assert client.get(CHANGELIST).status_code == 200


def test_change_page_shows_photos_history_and_review_buttons(client, station, officer):
    registration = RegistrationFactory(station=station)
    document = _with_photo(registration)
    client.force_login(officer)
    page = client.get(change_url(registration)).text
    assert reverse("registration:staff_document", args=[document.public_id]) in page
    assert registration.resident.document_number in page  # decrypted for staff
    for decision in ("registered", "correction", "reject"):
        assert (
            reverse("admin:registration_registration_review", args=[registration.pk, decision])
            in page
        )
    history = reverse("admin:registration_registration_history", args=[registration.pk])
    assert client.get(history).status_code == 200


def test_change_page_lists_the_residents_other_registrations_of_visible_stations(
    client, station, other_station, officer
):
    registration = RegistrationFactory(station=station)
    earlier = RegistrationFactory(station=station, resident=registration.resident, status=S.ENDED)
    elsewhere = RegistrationFactory(station=other_station, resident=registration.resident)
    client.force_login(officer)
    page = client.get(change_url(registration))
    assert list(page.context["other_registrations"]) == [earlier]
    assert elsewhere.reference not in page.text


def test_request_correction_needs_a_message_and_notifies(
    client, station, officer, django_capture_on_commit_callbacks
):
    registration = RegistrationFactory(station=station)
    client.force_login(officer)
    url = reverse("admin:registration_registration_review", args=[registration.pk, "correction"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"message": ""})
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["message"][0].code == "required"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"message": "Please retake the visa photo."}).status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.CORRECTION_REQUESTED
    assert "Please retake the visa photo." in mail.outbox[0].body


def test_forbidden_decision_in_admin_shows_an_error_not_a_500(client, station, officer):
    registration = RegistrationFactory(station=station, status=S.ENDED)
    client.force_login(officer)
    url = reverse("admin:registration_registration_review", args=[registration.pk, "registered"])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    registration.refresh_from_db()
    assert registration.status == S.ENDED


def test_bulk_actions_mark_registered_and_reject_with_message(
    client, station, officer, django_capture_on_commit_callbacks
):
    a, b = RegistrationFactory.create_batch(2, station=station)
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CHANGELIST, {"action": "mark_registered", "_selected_action": [a.pk]})
    a.refresh_from_db()
    assert a.status == S.REGISTERED
    step = client.post(CHANGELIST, {"action": "reject", "_selected_action": [b.pk]})
    assert step.status_code == 200 and b.reference in step.text
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            CHANGELIST,
            {
                "action": "reject",
                "_selected_action": [b.pk],
                "apply": "1",
                "message": "Wrong area.",
            },
        )
    b.refresh_from_db()
    assert b.status == S.REJECTED and b.staff_message == "Wrong area."
    assert len(mail.outbox) == 2


def test_qr_reference_url_opens_the_registration_for_its_station_only(
    client, station, officer, other_officer
):
    registration = RegistrationFactory(station=station)
    url = reverse("admin:registration_registration_by_reference", args=[registration.reference])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(other_officer)
    assert client.get(url).status_code == 404
    client.force_login(officer)
    response = client.get(url)
    assert response["Location"] == change_url(registration)


def test_history_versions_are_scoped_and_cannot_be_reverted(
    client, station, officer, other_officer
):
    registration = RegistrationFactory(station=station)
    services.registration_mark_registered(registration=registration, actor=officer)
    first = registration.history.earliest("history_date")
    url = reverse(
        "admin:registration_registration_simple_history",
        args=[registration.pk, first.history_id],
    )
    client.force_login(other_officer)
    assert client.get(url).status_code == 404
    client.force_login(officer)
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 403
    registration.refresh_from_db()
    assert registration.status == S.REGISTERED


def test_fields_are_read_only_and_nothing_can_be_added(client, station, officer):
    registration = RegistrationFactory(station=station)
    client.force_login(officer)
    assert client.get(reverse("admin:registration_registration_add")).status_code == 403
    client.post(change_url(registration), {"status": S.REGISTERED})
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED
    assert Registration.objects.count() == 1


def _decisions_audited():
    return list(
        AuditEntry.objects.filter(action=AuditAction.DECISION).values_list("detail", flat=True)
    )


def test_a_decision_is_audited_once_it_took_effect(client, station, officer):
    registration = RegistrationFactory(station=station)
    client.force_login(officer)
    url = reverse("admin:registration_registration_review", args=[registration.pk, "registered"])
    assert client.post(url).status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.REGISTERED
    assert _decisions_audited() == [Decision.REGISTERED.value]


def test_a_refused_decision_leaves_no_audit_entry(client, station, officer):
    """The audit trail holds what happened: a decision the status refuses is not in it."""
    registration = RegistrationFactory(station=station, status=S.ENDED)
    client.force_login(officer)
    for decision, data in (("registered", {}), ("reject", {"message": "No."})):
        url = reverse("admin:registration_registration_review", args=[registration.pk, decision])
        assert client.post(url, data).status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.ENDED
    assert _decisions_audited() == []


def test_a_forged_decision_word_answers_404_and_records_nothing(client, station, officer):
    registration = RegistrationFactory(station=station)
    client.force_login(officer)
    url = reverse("admin:registration_registration_review", args=[registration.pk, "approve"])
    assert client.post(url, {"message": "x"}).status_code == 404
    assert client.get(url).status_code == 404
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED
    assert not AuditEntry.objects.filter(action=AuditAction.DECISION).exists()


def test_bulk_decision_audits_only_the_registrations_it_changed(client, station, officer):
    waiting = RegistrationFactory(station=station)
    ended = RegistrationFactory(station=station, status=S.ENDED)
    client.force_login(officer)
    response = client.post(
        CHANGELIST, {"action": "mark_registered", "_selected_action": [waiting.pk, ended.pk]}
    )
    assert response.status_code == 302
    entries = AuditEntry.objects.filter(action=AuditAction.DECISION)
    assert list(entries.values_list("object_id", flat=True)) == [str(waiting.pk)]


def test_city_administrator_correcting_a_document_number_keeps_it_searchable(client, station):
    registration = RegistrationFactory(station=station, resident__document_number="E1234567")
    resident = registration.resident
    city = StaffUserFactory()
    city.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    client.force_login(city)
    url = reverse("admin:registration_resident_change", args=[resident.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    # What the page shows, sent back with one correction.
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = value if isinstance(value, list) else str(value)
    data["document_number"] = "E7654321"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    resident.refresh_from_db()
    assert resident.document_number == "E7654321"
    assert resident.document_number_index == document_number_index("E7654321")
    assert list(_results(client, "E7654321")) == [registration]
    assert resident.history.latest().history_user == city
