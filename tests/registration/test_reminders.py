"""Reminder rules with time travel: 30/7/1 days, expiry, 48 h correction, departure, 12 h staff."""

import contextlib
import datetime
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from notifications.models import Message
from notifications.reminders import reminders_run
from registration import reminders, services
from registration.constants import AmendmentKind, EndReason, RegistrationStatus
from registration.models import Amendment, Registration
from tests.registration.factories import RegistrationFactory
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
S = RegistrationStatus
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
START = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)


def at(moment: datetime.datetime):
    return time_machine.travel(moment, tick=False)


def _run(rule, moment, dry_run=False):
    with at(moment):
        return rule(today=timezone.localdate(), dry_run=dry_run)


def _templates():
    return sorted(Message.objects.values_list("template", flat=True))


@pytest.fixture
def visa_registration(station):
    with at(START):
        return RegistrationFactory(
            station=station,
            status=S.REGISTERED,
            visa_valid_until=(START + datetime.timedelta(days=60)).date(),
        )


def test_visa_reminders_30_7_and_1_days_before_each_once(visa_registration):
    until = visa_registration.visa_valid_until
    sent = []
    for days_before in range(45, 0, -1):
        moment = datetime.datetime.combine(
            until - datetime.timedelta(days=days_before), datetime.time(8, 30), tzinfo=SHANGHAI
        )
        outcome = _run(reminders.visa_expiring, moment)
        _run(reminders.visa_expiring, moment)  # twice the same day: nothing new
        if outcome.queued:
            sent.append(days_before)
    assert sent == [30, 7, 1]
    assert Message.objects.filter(template="registration/visa_expiring").count() == 3


def test_a_missed_day_is_caught_up_once(visa_registration):
    until = visa_registration.visa_valid_until
    moment = datetime.datetime.combine(
        until - datetime.timedelta(days=29), datetime.time(9), tzinfo=SHANGHAI
    )
    assert _run(reminders.visa_expiring, moment).queued == 1
    assert _run(reminders.visa_expiring, moment + datetime.timedelta(days=1)).queued == 0
    assert Message.objects.count() == 1


def test_visa_reminder_is_in_the_residents_language(
    visa_registration, django_capture_on_commit_callbacks
):
    visa_registration.resident.preferred_language = "zh-hans"
    visa_registration.resident.save()
    until = visa_registration.visa_valid_until
    moment = datetime.datetime.combine(
        until - datetime.timedelta(days=7), datetime.time(9), tzinfo=SHANGHAI
    )
    with at(moment), django_capture_on_commit_callbacks(execute=True):
        reminders.visa_expiring(today=timezone.localdate(), dry_run=False)
    assert "即将到期" in mail.outbox[0].subject or "到期" in mail.outbox[0].subject
    assert "7 天后" in mail.outbox[0].body


def test_dry_run_counts_but_sends_nothing(visa_registration):
    until = visa_registration.visa_valid_until
    moment = datetime.datetime.combine(
        until - datetime.timedelta(days=30), datetime.time(9), tzinfo=SHANGHAI
    )
    outcome = _run(reminders.visa_expiring, moment, dry_run=True)
    assert outcome.due == 1 and outcome.queued == 0
    assert visa_registration.reference in outcome.details[0]
    assert not Message.objects.exists()


def test_ended_registrations_get_no_visa_reminder(visa_registration):
    visa_registration.status = S.ENDED
    visa_registration.save()
    until = visa_registration.visa_valid_until
    moment = datetime.datetime.combine(
        until - datetime.timedelta(days=30), datetime.time(9), tzinfo=SHANGHAI
    )
    assert _run(reminders.visa_expiring, moment).due == 0


def test_expired_visa_without_update_ends_the_registration_and_tells_the_resident(
    visa_registration, django_capture_on_commit_callbacks
):
    until = visa_registration.visa_valid_until
    on_last_day = datetime.datetime.combine(until, datetime.time(9), tzinfo=SHANGHAI)
    assert _run(reminders.visa_expired, on_last_day).due == 0
    with django_capture_on_commit_callbacks(execute=True):
        outcome = _run(reminders.visa_expired, on_last_day + datetime.timedelta(days=1))
    assert outcome.queued == 1
    visa_registration.refresh_from_db()
    assert visa_registration.status == S.ENDED
    assert visa_registration.end_reason == EndReason.VISA_EXPIRED
    assert _templates() == ["registration/ended_visa_expired"]
    assert "register" in mail.outbox[0].body
    assert _run(reminders.visa_expired, on_last_day + datetime.timedelta(days=2)).due == 0


def test_renewed_visa_is_not_ended(visa_registration):
    services.registration_visa_renew(
        registration=visa_registration,
        visa_type="residence_permit",
        visa_number="RP1",
        visa_valid_until=visa_registration.visa_valid_until + datetime.timedelta(days=365),
        attempt=None,
    )
    after = datetime.datetime.combine(
        visa_registration.visa_valid_until + datetime.timedelta(days=1),
        datetime.time(9),
        tzinfo=SHANGHAI,
    )
    assert _run(reminders.visa_expired, after).due == 0


def test_correction_unanswered_for_48_hours_is_reminded_once(station, officer):
    with at(START):
        registration = RegistrationFactory(station=station)
        services.registration_request_correction(
            registration=registration, actor=officer, message="Blurred photo."
        )
    Message.objects.all().delete()
    assert _run(reminders.correction_unanswered, START + datetime.timedelta(hours=47)).due == 0
    assert _run(reminders.correction_unanswered, START + datetime.timedelta(hours=49)).queued == 1
    assert _run(reminders.correction_unanswered, START + datetime.timedelta(hours=73)).queued == 0
    assert _templates() == ["registration/correction_reminder"]


def test_answered_correction_is_not_reminded(station, officer):
    with at(START):
        registration = RegistrationFactory(station=station)
        services.registration_request_correction(
            registration=registration, actor=officer, message="Blurred photo."
        )
        services.registration_correct(registration=registration, data={}, attempt=None)
    assert _run(reminders.correction_unanswered, START + datetime.timedelta(hours=49)).due == 0


def test_passed_departure_asks_whether_the_resident_left_once(station):
    with at(START):
        registration = RegistrationFactory(
            station=station, expected_departure=(START + datetime.timedelta(days=5)).date()
        )
    departure = datetime.datetime.combine(
        registration.expected_departure, datetime.time(9), tzinfo=SHANGHAI
    )
    assert _run(reminders.departure_passed, departure).due == 0
    assert _run(reminders.departure_passed, departure + datetime.timedelta(days=1)).queued == 1
    assert _run(reminders.departure_passed, departure + datetime.timedelta(days=2)).queued == 0
    assert _templates() == ["registration/departure_check"]


def test_staff_are_told_of_a_submission_waiting_6_hours_before_its_deadline(
    station, other_station, officer, other_officer, django_capture_on_commit_callbacks
):
    without_email = StaffUserFactory(station=station, email="")  # told in the workspace
    with at(START):
        registration = RegistrationFactory(station=station, arrival_at=START)
    assert _run(reminders.staff_waiting, START + datetime.timedelta(hours=17)).due == 0
    with django_capture_on_commit_callbacks(execute=True):
        outcome = _run(reminders.staff_waiting, START + datetime.timedelta(hours=18, minutes=5))
    assert outcome.queued == 2
    assert [m.to for m in mail.outbox] == [["officer@example.org"]]
    assert registration.reference in mail.outbox[0].subject
    assert "仍待审核" in mail.outbox[0].subject  # officers get it in Chinese
    workspace = Message.objects.get(channel="admin")
    assert (workspace.to, workspace.status) == (str(without_email.pk), "sent")
    assert _run(reminders.staff_waiting, START + datetime.timedelta(hours=19)).queued == 0


def test_night_arrival_warned_before_its_deadline(station, officer):
    """Arrived 21:00: the deadline is 21:00 the next day; officers hear of it by 15:15."""
    night = datetime.datetime(2026, 3, 1, 21, 0, tzinfo=SHANGHAI)
    deadline = night + datetime.timedelta(hours=24)
    with at(night):
        registration = RegistrationFactory(station=station, arrival_at=night)
    assert registration.deadline_at == deadline
    warned_at = None
    moment = night
    while moment < deadline + datetime.timedelta(hours=3):  # the beat: every 15 minutes
        outcome = _run(reminders.staff_waiting, moment)
        if outcome.queued and warned_at is None:
            warned_at = moment
        moment += datetime.timedelta(minutes=15)
    assert warned_at is not None
    assert deadline - datetime.timedelta(hours=6) <= warned_at < deadline
    # Once before the deadline and once more when it has passed, each once.
    stages = sorted(
        m.idempotency_key.split(":")[1].split(".")[-2]
        for m in Message.objects.filter(template="registration/staff_waiting")
    )
    assert stages == ["overdue", "soon"]


def test_reviewed_submission_needs_no_staff_reminder(station, officer):
    with at(START):
        registration = RegistrationFactory(station=station, arrival_at=START)
        services.registration_mark_registered(registration=registration, actor=officer)
    assert _run(reminders.staff_waiting, START + datetime.timedelta(hours=13)).due == 0


def test_all_registration_rules_run_from_the_settings(settings, visa_registration):
    rules = [
        r
        for r in settings.REMINDER_RULES + settings.STAFF_ALERT_RULES
        if r.startswith("registration.")
    ]
    assert len(rules) == 5
    with at(START):
        outcomes = reminders_run(today=timezone.localdate(), dry_run=True, rules=rules)
    assert [o.error for o in outcomes] == [""] * 5


def test_each_rule_issues_a_fixed_number_of_queries(station, django_assert_max_num_queries):
    with at(START):
        RegistrationFactory.create_batch(
            5, station=station, expected_departure=(START - datetime.timedelta(days=1)).date()
        )
        # The SELECT; on PostgreSQL also setting and resetting cursor_tuple_fraction
        # around it (core.db.stream_all).
        with django_assert_max_num_queries(3 if connection.vendor == "postgresql" else 1):
            outcome = reminders.departure_passed(today=timezone.localdate(), dry_run=True)
    assert outcome.due == 5


# --- queued a chunk at a time (message_queue_many) --------------------------------------


def _departed(station, count, **resident):
    yesterday = (START - datetime.timedelta(days=1)).date()
    with at(START - datetime.timedelta(days=30)):
        return RegistrationFactory.create_batch(
            count,
            station=station,
            expected_departure=yesterday,
            **{f"resident__{name}": value for name, value in resident.items()},
        )


def test_reminders_go_by_email_and_by_sms_when_preferred_or_without_email(station):
    sms_first = _departed(station, 1, preferred_channel="sms")[0]
    no_email = _departed(station, 1, email="")[0]
    email_only = _departed(station, 1)[0]
    outcome = _run(reminders.departure_passed, START)
    assert (outcome.due, outcome.queued) == (3, 4)
    channels = {
        (m.concerning_id, m.channel, m.to)
        for m in Message.objects.filter(template="registration/departure_check")
    }
    assert channels == {
        (str(sms_first.pk), "email", sms_first.resident.email),
        (str(sms_first.pk), "sms", "+8613800138000"),
        (str(no_email.pk), "sms", "+8613800138000"),
        (str(email_only.pk), "email", email_only.resident.email),
    }
    assert all(m.idempotency_key.endswith(f":{m.channel}") for m in Message.objects.all())


def test_a_rule_run_twice_creates_nothing_new(station, officer):
    _departed(station, 3)
    with at(START - datetime.timedelta(hours=19)):
        RegistrationFactory.create_batch(2, station=station, arrival_at=timezone.now())
    first = [_run(reminders.departure_passed, START), _run(reminders.staff_waiting, START)]
    count = Message.objects.count()
    second = [_run(reminders.departure_passed, START), _run(reminders.staff_waiting, START)]
    assert [(o.due, o.queued) for o in first] == [(3, 3), (2, 2)]
    assert [(o.due, o.queued) for o in second] == [(3, 0), (2, 0)]
    assert Message.objects.count() == count == 5


def test_reminders_are_published_after_commit_once_per_chunk(
    station, django_capture_on_commit_callbacks
):
    _departed(station, 3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcome = _run(reminders.departure_passed, START)
        assert mail.outbox == []
    assert outcome.queued == 3
    assert len(callbacks) == 1
    assert len(mail.outbox) == 3
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize("count", [10, 200])
def test_a_rule_queues_its_reminders_with_the_same_queries_for_10_or_200(
    count, station, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    _departed(station, count)
    # The due rows (one query), then per chunk on PostgreSQL: savepoint, INSERT … SELECT,
    # release (SQLite: the chunk's rows, savepoint, key lookup, INSERT, id read-back,
    # release); the content type once. Nothing per registration or per message.
    with django_assert_max_num_queries(8), django_capture_on_commit_callbacks() as callbacks:
        outcome = _run(reminders.departure_passed, START)
    assert (outcome.due, outcome.queued) == (count, count)
    assert len(callbacks) == 1


def test_a_rule_s_queries_grow_per_chunk(
    station, monkeypatch, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(reminders, "CHUNK", 20)
    _departed(station, 50)
    with django_assert_max_num_queries(1 + 1 + 3 * 6), django_capture_on_commit_callbacks():
        outcome = _run(reminders.departure_passed, START)
    assert (outcome.due, outcome.queued) == (50, 50)


def test_staff_reminders_cost_one_membership_query_per_station(
    station, other_station, officer, other_officer, django_assert_max_num_queries
):
    with at(START - datetime.timedelta(hours=19)):
        RegistrationFactory.create_batch(20, station=station, arrival_at=timezone.now())
        RegistrationFactory.create_batch(20, station=other_station, arrival_at=timezone.now())
    with django_assert_max_num_queries(1 + 2 + 1 + 5):
        outcome = _run(reminders.staff_waiting, START)
    assert (outcome.due, outcome.queued) == (40, 40)
    assert set(Message.objects.values_list("to", flat=True)) == {
        "officer@example.org",
        "other@example.org",
    }


def test_visa_and_correction_rules_read_no_field_per_row(
    station, officer, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """The rules stream only the columns they need: a field left out would cost a query a row."""
    until = (START + datetime.timedelta(days=30)).date()
    with at(START - datetime.timedelta(days=3)):
        RegistrationFactory.create_batch(
            6, station=station, status=S.REGISTERED, visa_valid_until=until
        )
        for registration in RegistrationFactory.create_batch(6, station=station):
            services.registration_request_correction(
                registration=registration, actor=officer, message="Blurred photo."
            )
    Message.objects.all().delete()
    with django_assert_max_num_queries(7), django_capture_on_commit_callbacks():
        visa = _run(reminders.visa_expiring, START)
    with django_assert_max_num_queries(7), django_capture_on_commit_callbacks():
        correction = _run(reminders.correction_unanswered, START)
    assert (visa.due, visa.queued, correction.due, correction.queued) == (6, 6, 6, 6)
    assert Message.objects.count() == 12
    assert all(name.strip() for name in Message.objects.values_list("recipient_name", flat=True))


@contextlib.contextmanager
def refused_update(pk: int):
    """A fault in the database: it refuses every update of the registration ``pk``."""
    table = Registration._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION broken_row() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'a broken row'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER broken_row BEFORE UPDATE ON {table} "
                f"FOR EACH ROW WHEN (OLD.id = {int(pk)}) EXECUTE FUNCTION broken_row()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER broken_row BEFORE UPDATE ON {table} "
                f"WHEN OLD.id = {int(pk)} BEGIN SELECT RAISE(ABORT, 'a broken row'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER broken_row ON {table}")
                cursor.execute("DROP FUNCTION broken_row()")
            else:
                cursor.execute("DROP TRIGGER broken_row")


# The fault is set up outside the test's transaction, as a fault in production would be
# (SQLite aborts an open read when a savepoint rolls back a transaction that changed the schema).
@pytest.mark.django_db(transaction=True)
def test_expired_visas_end_in_chunks_and_one_bad_chunk_does_not_stop_the_others(
    station, monkeypatch
):
    with at(START - datetime.timedelta(days=30)):
        registrations = RegistrationFactory.create_batch(
            5, station=station, status=S.REGISTERED, visa_valid_until=START.date()
        )
    Message.objects.all().delete()
    bad = registrations[2].pk
    monkeypatch.setattr(reminders, "CHUNK", 2)
    with refused_update(bad):
        outcome = _run(reminders.visa_expired, START + datetime.timedelta(days=1))
    # The chunk with the broken row is rolled back whole (its ending, history, amendments
    # and messages); the two other chunks are ended and told.
    assert (outcome.due, outcome.queued) == (5, 3)
    statuses = dict(Registration.objects.values_list("pk", "status"))
    assert statuses[bad] == S.REGISTERED
    assert sorted(statuses.values()) == sorted([S.ENDED] * 3 + [S.REGISTERED] * 2)
    assert _templates() == ["registration/ended_visa_expired"] * 3
    assert len(mail.outbox) == 3
    assert Amendment.objects.filter(kind=AmendmentKind.ENDED).count() == 3
    again = _run(reminders.visa_expired, START + datetime.timedelta(days=1))
    assert (again.due, again.queued) == (2, 2)
    assert Message.objects.count() == 5


def test_the_15_minute_beat_task_runs_the_staff_alerts(station, officer, settings):
    from celery import current_app

    from notifications.tasks import staff_alerts_send

    current_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in current_app.tasks
    assert settings.CELERY_BEAT_SCHEDULE["staff-alerts"]["schedule"] <= 30 * 60
    with at(START - datetime.timedelta(hours=20)):
        RegistrationFactory(station=station, arrival_at=timezone.now())
    with at(START):
        outcomes = staff_alerts_send()
    assert [(o["rule"], o["queued"], o["error"]) for o in outcomes][0] == (
        "registration.staff_waiting",
        1,
        "",
    )
