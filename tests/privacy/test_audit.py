"""The audit trail: written once, read by managers of the station and city administrators."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from privacy.constants import AuditAction
from privacy.models import AuditEntry
from privacy.selectors import audit_entries_for_user
from privacy.services import audit_prune, audit_record
from stations.constants import GROUP_CITY_ADMIN, MembershipRole
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_entry_records_user_action_object_and_station(station):
    officer = StaffUserFactory(station=station)
    entry = audit_record(user=officer, action=AuditAction.VIEW, obj=station, station=station)
    entry.refresh_from_db()
    assert entry.username == officer.username
    assert entry.object_id == str(station.pk)
    assert entry.object_type.model == "station"
    assert entry.station == station


def test_entries_are_never_changed(station):
    entry = audit_record(user=None, action=AuditAction.EXPORT, station=station, detail="x")
    entry.detail = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(detail="rewritten")
    assert AuditEntry.objects.get(pk=entry.pk).detail == "x"


def test_managers_read_their_stations_entries_only(station, other_station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    officer = StaffUserFactory(station=station)
    city = StaffUserFactory()
    city.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    mine = audit_record(user=officer, action=AuditAction.VIEW, station=station)
    theirs = audit_record(user=officer, action=AuditAction.VIEW, station=other_station)
    assert list(audit_entries_for_user(manager)) == [mine]
    assert list(audit_entries_for_user(officer)) == []
    assert set(audit_entries_for_user(city)) == {mine, theirs}


def test_admin_is_read_only_and_scoped(client, station, other_station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    client.force_login(manager)
    mine = audit_record(user=manager, action=AuditAction.DECISION, station=station)
    theirs = audit_record(user=manager, action=AuditAction.DECISION, station=other_station)
    listing = client.get("/admin/privacy/auditentry/")
    assert listing.status_code == 200
    assert f"/admin/privacy/auditentry/{mine.pk}/change/" in listing.text
    assert f"/admin/privacy/auditentry/{theirs.pk}/change/" not in listing.text
    assert client.get(f"/admin/privacy/auditentry/{theirs.pk}/change/").status_code == 404
    assert client.post(f"/admin/privacy/auditentry/{mine.pk}/delete/").status_code == 403
    assert AuditEntry.objects.count() == 2


def test_prune_deletes_only_entries_past_retention(station):
    old = audit_record(user=None, action=AuditAction.VIEW, station=station)
    AuditEntry.objects.filter(pk=old.pk).delete()  # re-create with an old timestamp
    AuditEntry.objects.create(
        username="x", action=AuditAction.VIEW, at=timezone.now() - datetime.timedelta(days=800)
    )
    recent = audit_record(user=None, action=AuditAction.VIEW, station=station)
    cutoff = timezone.now() - datetime.timedelta(days=365)
    assert audit_prune(older_than=cutoff, dry_run=True) == 1
    assert audit_prune(older_than=cutoff) == 1
    assert list(AuditEntry.objects.all()) == [recent]
