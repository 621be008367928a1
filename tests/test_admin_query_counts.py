"""
Every Linli changelist costs the same number of queries at 10 and at 1,000 rows, and so do
the dashboard and the registration review screen: no N+1 from columns, no per-row lookups.
"""

import copy
import uuid

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import UniqueConstraint
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.stations.factories import StationFactory, UserFactory
from tests.test_admin_scoping import BUILDERS, LINLI_APPS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SMALL, LARGE = 10, 1000


def _unique_value(field, index):
    if field.get_internal_type() == "UUIDField":
        return uuid.uuid4()
    if field.get_internal_type() in ("CharField", "SlugField", "TextField"):
        return f"q{index}-{uuid.uuid4().hex}"[: field.max_length or 64]
    raise NotImplementedError(field)


def _clone(obj, count):
    """Bulk-insert ``count`` copies of ``obj``, with fresh values in its unique columns."""
    model = type(obj)
    # A column is unique by ``unique=True`` or by a one-column UniqueConstraint.
    unique_names = {
        constraint.fields[0]
        for constraint in model._meta.constraints
        if isinstance(constraint, UniqueConstraint)
        and len(constraint.fields) == 1
        and constraint.condition is None
    }
    copies = []
    for index in range(count):
        clone = copy.copy(obj)
        clone._state = copy.copy(obj._state)
        clone._state.adding = True
        clone.pk = None
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            if field.unique or field.name in unique_names:
                setattr(clone, field.attname, _unique_value(field, index))
        copies.append(clone)
    model.objects.bulk_create(copies, batch_size=500)


def _grow(label, station, count):
    """Give ``station`` ``count`` more objects of ``label``."""
    if label == "stations.station":
        StationFactory.create_batch(count)
    elif label in ("registration.resident",):
        from tests.registration.factories import RegistrationFactory

        RegistrationFactory.create_batch(count, station=station)
    elif label == "inquiries.replytemplate":
        from tests.inquiries.factories import ReplyTemplateFactory

        ReplyTemplateFactory.create_batch(count, station=station)
    elif label == "inquiries.checkinanswer":
        from inquiries.models import CheckInAnswer, CheckInInvitation
        from tests.registration.factories import ResidentFactory

        answer = BUILDERS[label](station)
        residents = ResidentFactory.create_batch(count)
        invitations = []
        for resident in residents:
            invitation = copy.copy(answer.invitation)
            invitation._state = copy.copy(answer.invitation._state)
            invitation._state.adding = True
            invitation.pk = None
            invitation.resident = resident
            invitation.token_hash = uuid.uuid4().hex
            invitations.append(invitation)
        invitations = CheckInInvitation.objects.bulk_create(invitations)
        CheckInAnswer.objects.bulk_create(
            [CheckInAnswer(invitation=inv, rating=4, troubles="") for inv in invitations]
        )
    else:
        _clone(BUILDERS[label](station), count)


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries), response


@pytest.mark.parametrize(
    "label",
    sorted(m._meta.label_lower for m in admin.site._registry if m._meta.app_label in LINLI_APPS),
)
def test_changelist_costs_the_same_at_10_and_1000_rows(client, label):
    station = StationFactory(code="shipai")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    app_label, model_name = label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    _grow(label, station, SMALL)
    small, response = _count_queries(client, url)
    assert response.context["cl"].result_count >= SMALL
    _grow(label, station, LARGE - SMALL)
    large, response = _count_queries(client, url)
    assert response.context["cl"].result_count >= LARGE
    assert large == small


def test_officers_registration_list_and_dashboard_cost_the_same_at_any_size(client):
    from tests.registration.factories import RegistrationFactory
    from tests.stations.factories import StaffUserFactory

    station = StationFactory(code="shipai")
    client.force_login(StaffUserFactory(username="officer", station=station))
    RegistrationFactory.create_batch(SMALL, station=station)
    urls = [reverse("admin:registration_registration_changelist"), reverse("admin:index")]
    small = [_count_queries(client, url)[0] for url in urls]
    _clone(RegistrationFactory(station=station), LARGE - SMALL)
    large = [_count_queries(client, url)[0] for url in urls]
    assert large == small


def test_review_screen_costs_the_same_whatever_the_residents_history(client):
    from registration.models import Registration
    from tests.registration.factories import RegistrationFactory

    station = StationFactory(code="shipai")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    registration = RegistrationFactory(station=station)
    url = reverse("admin:registration_registration_change", args=[registration.pk])
    client.get(url)  # warm the content-type cache the audit trail uses
    small, _response = _count_queries(client, url)
    for index in range(20):
        RegistrationFactory(station=station, resident=registration.resident)
        registration.address = f"Room {index}"
        registration.save()
    assert Registration.objects.filter(resident=registration.resident).count() == 21
    large, _response = _count_queries(client, url)
    assert large == small
