"""
Every look at personal data is audited, under the stations whose data it showed, and a
resident's history shows no station's era to another station (issue 13, attack 3).
"""

import csv
import io

import pytest
from django.urls import reverse

from privacy.constants import AuditAction
from privacy.models import AuditEntry
from registration.models import Document, Resident
from stations.constants import MembershipRole
from stations.services import station_membership_set
from tests.privacy.factories import (
    A_ADDRESS,
    A_DOCUMENT,
    A_EMAIL,
    A_PHONE,
    A_SURNAME,
    B_DOCUMENT,
    B_SURNAME,
    photo_attach,
)
from tests.registration.factories import RegistrationFactory
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

A_ERA = (A_SURNAME, A_SURNAME.upper(), A_EMAIL, A_PHONE, A_DOCUMENT, "1991-07-23", A_ADDRESS)


def _resident_urls(resident) -> dict[str, str]:
    versions = list(resident.history.order_by("history_id").values_list("history_id", flat=True))
    urls = {
        "history": reverse("admin:registration_resident_history", args=[resident.pk]),
    }
    for version in versions:
        urls[f"version {version}"] = reverse(
            "admin:registration_resident_simple_history", args=[resident.pk, version]
        )
    return urls


def _looks(**filters):
    return AuditEntry.objects.filter(action=AuditAction.VIEW, **filters)


def _stations(entries) -> set[str]:
    return {entry.station.code if entry.station else None for entry in entries}


# -- a resident both stations hold --------------------------------------------------------
def test_officer_of_b_cannot_read_a_era_in_the_history_of_a_shared_resident(
    client, shared, officer_b
):
    """The attack: B's officer opens the resident's history list and every version."""
    client.force_login(officer_b)
    urls = _resident_urls(shared.resident)
    assert len(urls) >= 3  # the list and at least A's and B's versions
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 404, name
        for value in A_ERA:
            assert value not in response.text, (name, value)
    assert not _looks().exists()  # nothing was seen, nothing to audit


def test_officer_of_b_cannot_write_a_history_version_back(client, shared, officer_b):
    client.force_login(officer_b)
    for name, url in _resident_urls(shared.resident).items():
        if name.startswith("version"):
            assert client.post(url, {}).status_code == 404
    resident = Resident.objects.get(pk=shared.resident.pk)
    assert (resident.surname, resident.document_number) == (B_SURNAME, B_DOCUMENT)


def test_officer_of_b_sees_the_resident_now_without_a_history_link_and_it_is_audited_for_b(
    client, shared, officer_b, manager_a, manager_b
):
    client.force_login(officer_b)
    page = client.get(reverse("admin:registration_resident_change", args=[shared.resident.pk]))
    assert page.status_code == 200
    assert B_SURNAME in page.text and B_DOCUMENT in page.text
    for value in A_ERA:
        assert value not in page.text
    assert reverse("admin:registration_resident_history", args=[shared.resident.pk]) not in (
        page.text
    )
    look = _looks(user=officer_b).get()
    assert (look.station.code, look.object_id) == ("shipai", str(shared.resident.pk))
    # B's manager reads it in the audit admin; A's manager does not (B looked as B).
    for manager, visible in ((manager_b, True), (manager_a, False)):
        client.force_login(manager)
        listing = client.get(reverse("admin:privacy_auditentry_changelist"))
        assert listing.status_code == 200
        assert (look in listing.context["cl"].result_list) is visible


def test_staff_of_both_stations_read_the_whole_history_audited_for_both(client, shared, station_a):
    both = StaffUserFactory(username="officer-ab", station=shared.at_b.station)
    station_membership_set(user=both, station=station_a, role=MembershipRole.OFFICER)
    client.force_login(both)
    urls = _resident_urls(shared.resident)
    history = client.get(urls.pop("history"))
    assert history.status_code == 200
    assert A_SURNAME.upper() in history.text
    entry_stations = _stations(_looks(user=both, detail="history"))
    assert entry_stations == {"linhe", "shipai"}
    name, version_url = next(iter(urls.items()))
    version = client.get(version_url)
    assert version.status_code == 200
    assert A_SURNAME in version.text
    version_id = name.split()[-1]
    assert _stations(_looks(user=both, detail=f"history version {version_id}")) == {
        "linhe",
        "shipai",
    }


def test_city_administrator_reads_the_history_audited_for_every_station(client, shared, city_admin):
    client.force_login(city_admin)
    response = client.get(_resident_urls(shared.resident)["history"])
    assert response.status_code == 200
    assert _stations(_looks(user=city_admin)) == {"linhe", "shipai"}


# -- one station's resident and registration ----------------------------------------------
def test_resident_of_one_station_history_is_open_to_its_staff_and_audited(
    client, station_b, officer_b
):
    resident = RegistrationFactory(station=station_b).resident
    resident.email = "new@example.org"
    resident.save()
    client.force_login(officer_b)
    urls = _resident_urls(resident)
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, name
    details = sorted(_looks(user=officer_b).values_list("detail", flat=True))
    assert details == sorted(
        ["history", *(f"history version {n.split()[-1]}" for n in urls if n != "history")]
    )
    assert _stations(_looks(user=officer_b)) == {"shipai"}
    # History pages never write: a version posted back is refused, the record unchanged.
    version_url = urls[next(n for n in urls if n != "history")]
    assert client.post(version_url, {}).status_code == 403
    assert Resident.objects.get(pk=resident.pk).email == "new@example.org"


def test_registration_pages_history_and_photos_are_audited_for_their_station(
    client, station_b, officer_b
):
    registration = RegistrationFactory(station=station_b)
    registration.address = "Room 9, New Road"
    registration.save()
    photo_attach(registration)
    document = Document.objects.get()
    version = registration.history.order_by("history_id").first().history_id
    client.force_login(officer_b)
    pages = {
        "": reverse("admin:registration_registration_change", args=[registration.pk]),
        "history": reverse("admin:registration_registration_history", args=[registration.pk]),
        f"history version {version}": reverse(
            "admin:registration_registration_simple_history", args=[registration.pk, version]
        ),
    }
    for detail, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        entry = _looks(user=officer_b, detail=detail).get()
        assert (entry.station.code, entry.object_id) == ("shipai", str(registration.pk))
    assert (
        client.get(
            document_url := reverse("registration:staff_document", args=[document.public_id])
        ).status_code
        == 200
    ), document_url
    photo = AuditEntry.objects.get(action=AuditAction.DOCUMENT_VIEW)
    assert photo.station.code == "shipai"


def test_another_stations_registration_history_is_a_404_and_writes_nothing(
    client, station_a, officer_b
):
    registration = RegistrationFactory(station=station_a)
    version = registration.history.get().history_id
    client.force_login(officer_b)
    for url in (
        reverse("admin:registration_registration_history", args=[registration.pk]),
        reverse("admin:registration_registration_simple_history", args=[registration.pk, version]),
    ):
        assert client.get(url).status_code == 404
    assert not AuditEntry.objects.exists()


# -- exports ------------------------------------------------------------------------------
def _export(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_audit_carries_the_station_and_its_manager_reads_it(
    client, station_a, station_b, manager_a, manager_b
):
    RegistrationFactory(station=station_a)
    RegistrationFactory(station=station_b)
    client.force_login(manager_b)
    rows = _export(client, reverse("admin:registration_registration_export"))
    assert len(rows) == 2  # header and B's registration
    export = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert export.station.code == "shipai"
    listing = client.get(reverse("admin:privacy_auditentry_changelist"), {"action": "export"})
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [export]
    client.force_login(manager_a)
    listing = client.get(reverse("admin:privacy_auditentry_changelist"), {"action": "export"})
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == []


def test_export_across_stations_is_audited_for_each_station_exported(
    client, station_a, station_b, city_admin
):
    RegistrationFactory(station=station_a)
    RegistrationFactory(station=station_b)
    client.force_login(city_admin)
    rows = _export(client, reverse("admin:registration_registration_export"))
    assert len(rows) == 3
    exports = AuditEntry.objects.filter(action=AuditAction.EXPORT)
    assert _stations(exports) == {"linhe", "shipai"}
    # Filtered to one station: that station only.
    _export(client, reverse("admin:registration_registration_export") + f"?station={station_a.pk}")
    assert _stations(exports.order_by("-pk")[:1]) == {"linhe"}
