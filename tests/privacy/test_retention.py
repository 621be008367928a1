"""Retention: the runner calls every app's rule; the audit rule deletes old entries only."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from privacy.constants import AuditAction
from privacy.models import AuditEntry
from privacy.retention import RetentionOutcome, retention_apply
from privacy.services import audit_record

pytestmark = pytest.mark.django_db


def test_runner_passes_time_and_dry_run_to_every_rule():
    seen = []

    def rule(*, now, dry_run):
        seen.append((now, dry_run))
        return RetentionOutcome(rule="fake", deleted=2)

    now = timezone.now()
    outcomes = retention_apply(now=now, dry_run=True, rules=[rule, rule])
    assert seen == [(now, True), (now, True)]
    assert [o.deleted for o in outcomes] == [2, 2]


def test_audit_entries_outlive_three_years_only(station, settings):
    settings.RETENTION = {**settings.RETENTION, "audit_days": 365 * 3}
    with time_machine.travel(timezone.now() - datetime.timedelta(days=365 * 3 + 2)):
        audit_record(user=None, action=AuditAction.VIEW, station=station, detail="old")
    with time_machine.travel(timezone.now() - datetime.timedelta(days=365 * 3 - 2)):
        audit_record(user=None, action=AuditAction.VIEW, station=station, detail="kept")
    call_command("apply_retention", "--dry-run", stdout=io.StringIO())
    assert AuditEntry.objects.count() == 2
    call_command("apply_retention", stdout=io.StringIO())
    assert list(AuditEntry.objects.values_list("detail", flat=True)) == ["kept"]


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Privacy notice"), ("zh-hans", "隐私声明")]
)
def test_privacy_notice_in_every_language(client, language, expected, settings):
    response = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert expected in response.text
    months = settings.RETENTION["registrations_ended_days"] // 30
    assert str(months) in response.text
