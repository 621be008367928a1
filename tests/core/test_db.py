"""
A database connection terminated mid-request costs the resident nothing they can see.

Each test kills the request's connection just before one statement (``db_faults``: on
PostgreSQL ``pg_terminate_backend`` from a second connection, on SQLite the handle closed
under the view) and checks what the resident gets: the submission stored once, the
receipt or case page shown, never a 500. Transactional tests: a retry needs a real commit.
"""

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection
from django.urls import reverse

from core.db import database_errors, retry_on_lost_connection, stream_all
from inquiries.models import Inquiry
from notifications.models import Message
from registration.models import Document, Registration
from stations.models import Station
from tests.core.db_faults import backend_terminated_before
from tests.registration.factories import form_data, photos
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def station(transactional_db):
    return StationFactory(code="shipai")


def _register_url(station) -> str:
    return reverse("registration:register", args=[station.code])


def _review(client, station):
    response = client.post(_register_url(station), {**form_data(), **photos()})
    assert response.status_code == 200


def _send(client, station):
    return client.post(_register_url(station), {**form_data(), "step": "submit"})


def _receipt_shows(client, response) -> Registration:
    assert response.status_code == 302
    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    registration = Registration.objects.get()
    assert registration.reference in receipt.text
    assert receipt.context["private_link"]
    return registration


@pytest.mark.parametrize(
    "statement",
    [
        r'^INSERT INTO "registration_resident"',
        r'^INSERT INTO "registration_registration"',
        r'^INSERT (OR IGNORE )?INTO "notifications_message"',  # the outbox, last
    ],
)
def test_backend_terminated_during_the_final_submit_stores_one_registration_and_shows_receipt(
    client, station, statement
):
    _review(client, station)
    with backend_terminated_before(statement) as killed:
        response = _send(client, station)
    assert killed.killed == [statement]
    registration = _receipt_shows(client, response)
    assert Document.objects.filter(registration=registration).count() == 3
    assert Message.objects.count() == 1  # one confirmation, not one per try


def test_backend_terminated_before_the_session_write_still_shows_the_receipt(client, station):
    """The 400 "session was deleted" two residents saw after their registration was stored."""
    _review(client, station)
    with backend_terminated_before(r'^UPDATE "django_session"') as killed:
        response = _send(client, station)
    assert killed.killed
    _receipt_shows(client, response)


def test_backend_terminated_when_the_receipt_reads_the_session_still_shows_it(client, station):
    _review(client, station)
    response = _send(client, station)
    with backend_terminated_before(r'FROM "django_session"') as killed:
        _receipt_shows(client, response)
    assert killed.killed


def test_backend_terminated_while_a_photo_is_recorded_keeps_it_once_and_no_orphan_file(
    client, station
):
    stored = _files()
    with backend_terminated_before(r'^INSERT INTO "registration_document"') as killed:
        response = client.post(_register_url(station), {**form_data(), **photos()})
    assert killed.killed
    assert response.status_code == 200
    assert Document.objects.count() == 3
    kept = {d.file.name for d in Document.objects.all()}
    kept |= {d.thumbnail.name for d in Document.objects.all() if d.thumbnail}
    assert len(kept) == 6  # each photo and its thumbnail, once
    assert _files() - stored == kept


def test_backend_terminated_after_the_commit_while_marking_the_publish_still_shows_receipt(
    client, station
):
    """Found by the drill: the stored registration answered 500 from its on-commit publish."""
    _review(client, station)
    with backend_terminated_before(r'^UPDATE "notifications_message" SET "published_at"') as killed:
        response = _send(client, station)
    assert killed.killed
    _receipt_shows(client, response)
    assert Message.objects.count() == 1


def test_backend_terminated_while_the_review_reads_the_photos_shows_the_review(client, station):
    """Found by the drill: reading the attempt's photos on a dead connection answered 500."""
    client.post(_register_url(station), {**form_data(), **photos()})
    with backend_terminated_before(r'FROM "registration_document"') as killed:
        response = client.post(_register_url(station), form_data())
    assert killed.killed
    assert response.status_code == 200
    assert response.context["photos"]


def test_backend_terminated_before_the_station_is_read_shows_the_form(client, station):
    with backend_terminated_before(r'FROM "stations_station"') as killed:
        response = client.get(_register_url(station))
    assert killed.killed
    assert response.status_code == 200
    assert "form" in response.context


def test_backend_terminated_during_a_help_request_stores_one_case(client, station):
    data = {
        "category": "healthcare",
        "subject": "Need an English-speaking doctor",
        "description": "My child has a fever. Which hospital nearby speaks English?",
        "urgency": "normal",
        "contact_name": "John Smith",
        "contact_method": "phone",
        "phone": "13800138000",
        "contact_time": "morning",
        "language": "en",
    }
    with backend_terminated_before(r'^INSERT INTO "inquiries_inquiry"') as killed:
        response = client.post(f"/s/{station.code}/help/", data)
    assert killed.killed
    assert response.status_code == 302
    assert Inquiry.objects.count() == 1
    case = client.get(response["Location"])
    assert case.status_code == 200
    assert Inquiry.objects.get().reference in case.text


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="pg_terminate_backend needs PostgreSQL (DATABASE_URL=postgres://…)",
)
def test_pg_terminate_backend_of_a_kept_connection_between_requests_costs_nothing(client, station):
    """A persistent connection killed between two requests: CONN_HEALTH_CHECKS reconnects."""
    from tests.core.db_faults import _terminate

    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"]
    _review(client, station)
    connection.ensure_connection()
    _terminate(connection)
    response = _send(client, station)
    _receipt_shows(client, response)


def test_an_error_on_a_live_connection_is_not_run_again(station):
    """A real answer of the database (here a duplicate code) is an error, not a blip."""
    calls = []

    @retry_on_lost_connection
    def duplicate():
        calls.append(1)
        Station.objects.create(code=station.code)

    with pytest.raises(IntegrityError):
        duplicate()
    assert calls == [1]


def test_a_connection_that_stays_down_fails_after_a_bounded_number_of_tries(station):
    calls = []

    @retry_on_lost_connection
    def count():
        calls.append(1)
        return Station.objects.count()

    patterns = [r'FROM "stations_station"'] * 3
    with backend_terminated_before(*patterns), pytest.raises(database_errors()):
        count()
    assert len(calls) == 3


def _files() -> set[str]:
    root = settings.STORAGES["default"]["OPTIONS"]["location"]
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_stream_all_yields_every_row_planned_for_all_of_them_then_resets():
    def fraction() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW cursor_tuple_fraction")
            return cursor.fetchone()[0]

    every = list(ContentType.objects.order_by("pk").values_list("pk", flat=True))
    assert len(every) > 3
    seen, during = [], set()
    for pk in stream_all(
        ContentType.objects.order_by("pk").values_list("pk", flat=True), chunk_size=2
    ):
        seen.append(pk)
        if connection.vendor == "postgresql":
            during.add(fraction())
    assert seen == every
    if connection.vendor == "postgresql":
        assert during == {"1"}  # the cursor was planned for all its rows
        assert fraction() == "0.1"  # and the connection is as it was
