"""
The outbox's references (station, kind of record, earlier and later messages) are kept by
the ORM, not by database constraints (``Message``'s docstring): every way Linli deletes
their targets clears them, and none is left pointing at a row that is gone.
"""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from notifications.constants import MessageStatus
from notifications.models import Message
from notifications.retention import messages_expire
from tests.notifications.factories import MessageFactory
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.django_db


def _dangling() -> list[tuple[str, int]]:
    """Every (column, id) of the outbox that points at a row that does not exist, in SQL."""
    checks = {
        "station_id": "stations_station",
        "concerning_type_id": "django_content_type",
        "held_by_id": "notifications_message",
        "superseded_by_id": "notifications_message",
        "fallback_id": "notifications_message",
    }
    found = []
    with connection.cursor() as cursor:
        for column, table in checks.items():
            # Fixed names from the mapping above; no value from outside.
            cursor.execute(
                f"SELECT m.id FROM notifications_message m WHERE m.{column} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = m.{column})"
            )
            found += [(column, pk) for (pk,) in cursor.fetchall()]
    return found


def test_the_outbox_has_no_foreign_key_constraint_left_to_check_per_row():
    """What the reminder run no longer pays for at each commit (bench/README.md, issue 19)."""
    with connection.cursor() as cursor:
        relations = connection.introspection.get_relations(cursor, Message._meta.db_table)
    assert relations == {}


def test_deleting_a_station_clears_its_messages_station():
    station = StationFactory(code="gone")
    message = MessageFactory(station=station)

    station.delete()

    message.refresh_from_db()
    assert message.station_id is None
    assert _dangling() == []


def test_retention_clears_what_pointed_at_the_deleted_messages(settings):
    settings.RETENTION = {**settings.RETENTION, "outbox_days": 90}
    old = timezone.now() - datetime.timedelta(days=91)
    first = MessageFactory(status=MessageStatus.SENT)
    replaced = MessageFactory(status=MessageStatus.CANCELLED)
    refused = MessageFactory(status=MessageStatus.FAILED)
    Message.objects.filter(pk__in=[first.pk, replaced.pk, refused.pk]).update(
        created_at=old, updated_at=old
    )
    waiting = MessageFactory(held_by=first, superseded_by=replaced, fallback=refused)

    assert messages_expire(now=timezone.now(), dry_run=False).deleted == 3

    waiting.refresh_from_db()
    assert (waiting.held_by_id, waiting.superseded_by_id, waiting.fallback_id) == (None,) * 3
    assert _dangling() == []


def test_deleting_a_kind_of_record_clears_concerning_type():
    kind = ContentType.objects.create(app_label="gone", model="record")
    message = MessageFactory(concerning_type=kind, concerning_id="7")

    kind.delete()

    message.refresh_from_db()
    assert (message.concerning_type_id, message.concerning_id) == (None, "7")
    assert _dangling() == []
