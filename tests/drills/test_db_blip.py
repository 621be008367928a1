"""
Drill 4 of ``make drill`` as tests: the PostgreSQL connection a request or a delivery is
using is terminated (``pg_terminate_backend``, as a failover or a restart does), at one
point of the work each time. The resident never sees a server error, sees the receipt of
every registration that was stored, and a message sent before the cut is not recorded as
failed.
"""

import contextlib
import re
import time

import psycopg
import pytest
from django.core import mail
from django.db import DatabaseError, close_old_connections, connection
from django.test import override_settings
from django.urls import reverse

from notifications.constants import Channel, MessageStatus
from notifications.services import message_queue, messages_sweep
from notifications.tasks import message_deliver
from registration.models import Registration
from tests.registration.factories import form_data, photos

pytestmark = pytest.mark.drill


def _terminate(pid: int) -> None:
    """End backend ``pid`` from another connection and wait until it is gone."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.02)


@contextlib.contextmanager
def cut_at(pattern: str, *, param: str | None = None):
    """Terminate this process's database connection just before the first query whose SQL
    matches ``pattern`` (and has ``param`` among its parameters); the query then fails."""
    state = {"cut": False}

    def wrapper(execute, sql, params, many, context):
        if (
            not state["cut"]
            and re.search(pattern, sql)
            and (param is None or param in (params or ()))
        ):
            state["cut"] = True
            _terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield state


def _review(client, station) -> tuple[str, dict]:
    url = reverse("registration:register", args=[station.code])
    assert client.get(url).status_code == 200
    data = form_data()
    assert client.post(url, {**data, **photos()}).status_code == 200
    return url, data


def _resident_sees_a_stored_registration_or_a_clear_refusal(client, response) -> None:
    assert response.status_code < 500
    stored = Registration.objects.count()
    assert stored <= 1
    if stored:
        # Whatever went wrong, a stored registration's receipt is shown.
        assert response.status_code == 302
        receipt = client.get(response["Location"])
        assert receipt.status_code == 200
        assert Registration.objects.get().reference in receipt.text
        assert Registration.objects.get().documents.count() == 3
    else:
        assert response.status_code in (400, 409, 429)  # the form again, with a message


def _request_starts() -> None:
    """Do what the WSGI handler does as a request starts (the test client leaves it out):
    close connections that are too old or broken, and health-check the next one."""
    close_old_connections()


def test_connection_cut_between_requests_is_replaced(client, station, on_own_redis):
    url, data = _review(client, station)
    connection.ensure_connection()
    _terminate(connection.connection.info.backend_pid)  # idle, as after a failover

    client.raise_request_exception = False
    _request_starts()
    response = client.post(url, {**data, "step": "submit"})

    assert response.status_code == 302
    _resident_sees_a_stored_registration_or_a_clear_refusal(client, response)


@pytest.mark.parametrize(
    "where",
    [
        r'INSERT INTO "registration_resident"',
        r'INSERT INTO "notifications_message"',
        r'UPDATE "django_session"',
    ],
    ids=["resident-upsert", "outbox", "session-save"],
)
def test_connection_cut_during_the_confirm_costs_the_resident_nothing(
    client, station, on_own_redis, where
):
    url, data = _review(client, station)

    client.raise_request_exception = False
    _request_starts()
    with cut_at(where) as cut:
        response = client.post(url, {**data, "step": "submit"})

    assert cut["cut"], f"no query matched {where!r}"
    _resident_sees_a_stored_registration_or_a_clear_refusal(client, response)


def test_message_sent_before_the_connection_drops_is_recorded_sent(
    station, on_own_redis, in_process_worker
):
    mail.outbox = []
    message = message_queue(
        template="notifications/test",
        language="en",
        channel=Channel.EMAIL,
        to="ana@example.org",
        context={},
        idempotency_key="drill:blip:1",
        station=station,
    )

    # The worker's connection is cut right after the mail server accepted the message.
    with (
        cut_at(r'UPDATE "notifications_message"', param=MessageStatus.SENT) as cut,
        contextlib.suppress(DatabaseError),  # the task fails, as in the worker
    ):
        message_deliver(message.pk)
    assert cut["cut"]
    assert len(mail.outbox) == 1
    connection.close_if_unusable_or_obsolete()  # what Celery's Django fixup does after a task

    # Later sweeps and workers (compressed time) must not fail it, nor send it again.
    with (
        override_settings(NOTIFICATIONS_SWEEP_AFTER=0, NOTIFICATIONS_SENDING_LEASE=0),
        in_process_worker(),
    ):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            messages_sweep()
            message.refresh_from_db()
            if message.status in (MessageStatus.SENT, MessageStatus.FAILED):
                break
            time.sleep(0.2)
    assert message.status == MessageStatus.SENT
    assert len(mail.outbox) == 1
