"""CSV export: what the list shows, streamed, scoped, logged, sensitive columns by permission."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from core.export import csv_rows
from privacy.constants import AuditAction
from privacy.models import AuditEntry
from privacy.services import audit_record
from stations.constants import MembershipRole
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def _read(response):
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_export_streams_only_the_users_stations_and_is_logged(client, station, other_station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    audit_record(user=manager, action=AuditAction.VIEW, station=station, detail="mine")
    audit_record(user=manager, action=AuditAction.VIEW, station=other_station, detail="theirs")
    client.force_login(manager)
    response = client.get("/admin/privacy/auditentry/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _read(response)
    details = [row[-1] for row in rows[1:]]
    assert details == ["mine"]
    logged = AuditEntry.objects.filter(action=AuditAction.EXPORT).get()
    assert logged.username == manager.username
    assert "privacy.AuditEntry" in logged.detail


def test_export_follows_the_changelist_filters(client, station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    audit_record(user=manager, action=AuditAction.VIEW, station=station, detail="viewed")
    audit_record(user=manager, action=AuditAction.DECISION, station=station, detail="decided")
    client.force_login(manager)
    rows = _read(client.get("/admin/privacy/auditentry/export.csv?action__exact=decision"))
    assert [row[-1] for row in rows[1:]] == ["decided"]
    listing = client.get("/admin/privacy/auditentry/?action__exact=decision")
    assert "export.csv?action__exact=decision" in listing.text


def test_export_with_bad_filters_is_a_400_not_a_500(client, station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    client.force_login(manager)
    assert client.get("/admin/privacy/auditentry/export.csv?nonsense__gt=1").status_code == 400


def test_officer_without_view_permission_cannot_export(client, station):
    officer = StaffUserFactory(station=station)
    client.force_login(officer)
    assert client.get("/admin/privacy/auditentry/export.csv").status_code == 403


def test_sensitive_columns_need_the_permission(rf, station):
    from django.contrib import admin as django_admin

    from privacy.admin import AuditEntryAdmin

    model_admin = AuditEntryAdmin(AuditEntry, django_admin.site)
    model_admin.export_sensitive_fields = [("secret", "object_id")]
    user = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    request = rf.get("/")
    request.user = user
    assert "secret" not in [h for h, _a in model_admin.export_columns(request)]
    user.user_permissions.add(Permission.objects.get(codename="export_document_numbers"))
    request.user = type(user).objects.get(pk=user.pk)
    assert "secret" in [h for h, _a in model_admin.export_columns(request)]


def test_cells_that_look_like_formulas_are_neutralised(station):
    audit_record(user=None, action=AuditAction.VIEW, station=station, detail="=HYPERLINK(1)")
    rows = list(csv_rows(AuditEntry.objects.all(), [("detail", "detail")]))
    assert rows[1] == ["'=HYPERLINK(1)"]
