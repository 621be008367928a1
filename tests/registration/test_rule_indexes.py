"""
The indexes of a visa's end, a departure and a deadline hold active registrations only
(ended ones, most of an archive, stay out): every query that reads them must still be able
to use them — its filter must imply "active". PostgreSQL proves it or plans without them.
"""

import datetime

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from registration.constants import ACTIVE_STATUSES, RegistrationStatus
from registration.models import Registration
from registration.selectors.queues import registrations_overdue, registrations_visa_expiring

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="partial indexes are planned here"
    ),
]
TODAY = datetime.date(2026, 3, 1)
NOW = timezone.make_aware(datetime.datetime(2026, 3, 1, 9, 0))


def plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: force the choice
        return queryset.explain()


@pytest.mark.parametrize(
    ("index", "where"),
    [
        (
            "registration_status_visa",
            Q(status__in=ACTIVE_STATUSES, visa_valid_until__range=(TODAY, TODAY)),
        ),  # visa_expiring
        ("registration_status_visa", Q(status__in=ACTIVE_STATUSES, visa_valid_until__lt=TODAY)),
        ("registration_status_visa", registrations_visa_expiring(today=TODAY)),
        (
            "registration_status_departure",
            Q(status__in=ACTIVE_STATUSES, expected_departure__lt=TODAY),
        ),
        (
            "registration_status_deadline",
            Q(status=RegistrationStatus.SUBMITTED, deadline_at__lte=NOW),
        ),  # staff_waiting
        ("registration_status_deadline", registrations_overdue(now=NOW)),
    ],
)
def test_each_query_of_an_active_only_index_can_use_it(index, where):
    with transaction.atomic():
        assert index in plan(Registration.objects.filter(where))


def test_an_ended_registration_is_not_in_them():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
            "('registration_status_visa', 'registration_status_departure', "
            "'registration_status_deadline')"
        )
        definitions = dict(cursor.fetchall())
    assert len(definitions) == 3
    for definition in definitions.values():
        assert "WHERE" in definition and "'ended'" not in definition
        assert all(f"'{status}'" in definition for status in ACTIVE_STATUSES)
