"""
The set-based reminder run (``registration.services.reminder_sets``, and on PostgreSQL
``notifications.services.queueing_sets``) writes what the per-row path writes: the same
registration, history rows, amendments and outbox messages; and keeps its guarantees
(idempotent, no duplicate under two runs at once, after commit, quiet hours, a constant
number of queries per chunk).
"""

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications import tasks
from notifications.constants import Channel, MessageStatus
from notifications.models import Message
from notifications.ordering import thread_key
from notifications.reminders import reminder_key, reminders_run
from notifications.services import message_queue_many, messages_sweep
from registration import reminders
from registration.constants import AmendmentKind, EndReason, RegistrationStatus
from registration.models import Amendment, Registration
from registration.selectors import resident_routes
from registration.services import (
    registration_end,
    registrations_end_expired,
    resident_message_specs,
    resident_messages_queue,
)
from tests.registration.factories import RegistrationFactory
from wechat.services import binding_create

pytestmark = pytest.mark.django_db
S = RegistrationStatus
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
START = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
RULE = "registration.visa_expired"
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the INSERT … SELECT path is PostgreSQL's"
)
# Residents reached in every way the routes allow: email, SMS too, SMS only, and languages
# to resolve (a case variant, an unknown one).
CONTACTS = [
    {"email": "ana@example.org", "preferred_channel": "email", "preferred_language": "en"},
    {"email": "bo@example.org", "preferred_channel": "sms", "preferred_language": "zh-hans"},
    {"email": "", "preferred_channel": "email", "preferred_language": "ZH_HANS"},
    {"email": "  cy@example.org ", "preferred_channel": "email", "preferred_language": "xx"},
    {"email": "", "phone": "", "preferred_channel": "sms", "preferred_language": "fr"},
]
STATUSES = [S.REGISTERED, S.SUBMITTED, S.CORRECTION_REQUESTED, S.RESUBMITTED, S.REGISTERED]


def at(moment: datetime.datetime):
    return time_machine.travel(moment, tick=False)


def twins(station, *, staff_message: str = "") -> tuple[list, list]:
    """Two lists of registrations alike in everything the run reads (not their ids)."""
    with at(START - datetime.timedelta(days=30)):
        made = [
            [
                RegistrationFactory(
                    station=station,
                    status=status,
                    visa_valid_until=START.date() - datetime.timedelta(days=1),
                    staff_message=staff_message,
                    resident__surname=f"Ölçer{n}",
                    resident__given_names="Ama Léa",
                    **{f"resident__{k}": v for k, v in contact.items()},
                )
                for n, (status, contact) in enumerate(zip(STATUSES, CONTACTS, strict=True))
            ]
            for _ in range(2)
        ]
    Message.objects.all().delete()
    return made[0], made[1]


def end_one_at_a_time(registrations) -> None:
    """The per-row path the set-based run replaces (``registration_end`` per registration,
    then ``resident_message_specs`` queued with ``message_queue_many``)."""
    specs = []
    with transaction.atomic():
        for registration in registrations:
            ended = registration_end(registration=registration, reason=EndReason.VISA_EXPIRED)
            specs += resident_message_specs(
                registration=ended,
                template="ended_visa_expired",
                key=reminder_key(RULE, ended, ended.visa_valid_until),
                context={"end_reason": EndReason.VISA_EXPIRED},
            )
        message_queue_many(messages=specs)


def end_as_a_set(registrations) -> list:
    with transaction.atomic():
        ended = registrations_end_expired(pks=[r.pk for r in registrations], today=START.date())
        resident_messages_queue(
            template="ended_visa_expired",
            items=[
                (pk, reminder_key(RULE, Registration(pk=pk), until), {"end_reason": "visa_expired"})
                for pk, until in ended
            ],
        )
    return ended


def history_of(registration) -> list[dict]:
    """Every history row of ``registration`` as its field values, the ids and times named."""
    rows = []
    for row in registration.history.order_by("history_id"):
        values = {
            f.attname: getattr(row, f.attname)
            for f in row._meta.concrete_fields
            if f.attname not in ("history_id", "history_date")
        }
        rows.append(values)
    return rows


def tracked(registration) -> dict:
    history = Registration.history.model
    names = {f.attname for f in history._meta.concrete_fields}
    return {
        f.attname: getattr(registration, f.attname)
        for f in Registration._meta.concrete_fields
        if f.attname in names
    }


def outbox_of(registration) -> list[dict]:
    """The messages about ``registration``, with its id and reference named, not valued."""
    pk, reference = str(registration.pk), registration.reference
    rows = []
    for message in Message.objects.filter(concerning_id=pk).order_by("channel"):
        values = {
            f.attname: getattr(message, f.attname)
            for f in Message._meta.concrete_fields
            if f.attname not in ("id", "created_at", "updated_at", "next_attempt_at")
            and f.attname != "published_at"
        }
        values["idempotency_key"] = values["idempotency_key"].replace(f":{pk}:", ":<pk>:")
        values["concerning_id"] = "<pk>"
        if message.channel == Channel.WECHAT:  # "resident:<id>", and its hash in the thread
            assert message.to == f"resident:{registration.resident_id}"
            assert message.thread == thread_key(
                subject=f"{Registration._meta.label_lower}:{pk}",
                channel=Channel.WECHAT,
                to=message.to,
            )
            values["to"], values["thread"] = "resident:<id>", "<wechat thread>"
        values["thread"] = values["thread"].replace(f":{pk}:", ":<pk>:")
        values["context"] = {**values["context"], "reference": "<ref>"}
        values["recipient_name"] = values["recipient_name"].replace(
            registration.resident.surname.upper(), "<SURNAME>"
        )
        assert message.context["reference"] == reference
        rows.append(values)
    return rows


def test_the_set_writes_what_registration_end_writes_one_at_a_time(station):
    per_row, as_set = twins(station, staff_message="Please bring your passport.")
    with at(START):
        end_one_at_a_time(per_row)
        ended = end_as_a_set(as_set)
    assert sorted(pk for pk, _until in ended) == sorted(r.pk for r in as_set)
    for one, other in zip(per_row, as_set, strict=True):
        one.refresh_from_db()
        other.refresh_from_db()
        for registration in (one, other):
            assert registration.status == S.ENDED
            assert registration.end_reason == EndReason.VISA_EXPIRED
            assert registration.departed_on is None
            assert registration.ended_at == registration.status_changed_at == START
            assert registration.updated_at == START
        # History: one row more each, the registration as it was saved ("~", no user).
        first, second = history_of(one), history_of(other)
        assert len(first) == len(second) == 2  # created, then ended
        for registration, rows in ((one, first), (other, second)):
            latest = rows[-1]
            assert {k: v for k, v in latest.items() if not k.startswith("history_")} == tracked(
                registration
            )
            assert (
                latest["history_type"],
                latest["history_user_id"],
                latest["history_change_reason"],
            ) == ("~", None, None)
        assert other.history.latest().history_date == one.history.latest().history_date
        # Amendments: the same timeline entry.
        assert list(
            other.amendments.values_list(
                "kind", "status_before", "status_after", "message", "staff_user", "created_at"
            )
        ) == list(
            one.amendments.values_list(
                "kind", "status_before", "status_after", "message", "staff_user", "created_at"
            )
        )
        assert one.amendments.get().kind == AmendmentKind.ENDED
        # Messages: the same outbox rows, field by field.
        assert outbox_of(other) == outbox_of(one)
    assert Message.objects.count() == 2 * 5  # 1 + 2 + 1 + 1 + 0 routes per twin


def wechat_configured(settings) -> None:
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx-app", "wx-secret"
    settings.WECHAT_TOKEN = "callback-token"


# Residents of ``CONTACTS`` who linked WeChat: one by email, one preferring SMS, one with
# neither email nor phone (reached only in WeChat).
BOUND = (0, 1, 4)


@pytest.mark.parametrize("wechat_on", [True, False], ids=["wechat-on", "wechat-off"])
def test_the_set_routes_residents_who_linked_wechat_as_resident_routes_does(
    station, settings, wechat_on
):
    if wechat_on:
        wechat_configured(settings)
    per_row, as_set = twins(station)
    for twin in (per_row, as_set):
        for n in BOUND:
            binding_create(resident=twin[n].resident, openid=f"openid-{twin[n].pk}", language="en")
    with at(START):
        end_one_at_a_time(per_row)
        end_as_a_set(as_set)
    for n, (one, other) in enumerate(zip(per_row, as_set, strict=True)):
        one.refresh_from_db()
        expected = [channel for channel, _to in resident_routes(one.resident)]
        assert [m["channel"] for m in outbox_of(one)] == sorted(expected)
        assert outbox_of(other) == outbox_of(one)
        if wechat_on and n in BOUND:
            assert expected == [Channel.WECHAT]  # WeChat alone, not email/SMS as well
    wechat = Message.objects.filter(channel=Channel.WECHAT).count()
    assert wechat == (2 * len(BOUND) if wechat_on else 0)
    # Bound: 1 WeChat each; the others as before (SMS too; one email). Off: 1+2+1+1+0.
    assert Message.objects.count() == 2 * (len(BOUND) + 2 if wechat_on else 5)


@needs_postgresql
def test_the_outbox_insert_select_resolves_language_routes_and_threads_as_python_does(
    station, django_capture_on_commit_callbacks
):
    per_row, as_set = twins(station)
    # Every rule's context kinds: dates and numbers as JSON, a key suffix per channel.
    extra = {"days": 7, "valid_until": "2026-03-08"}
    with at(START), django_capture_on_commit_callbacks():
        message_queue_many(
            messages=[
                spec
                for r in per_row
                for spec in resident_message_specs(
                    registration=r,
                    template="visa_expiring",
                    key=reminder_key("registration.visa_expiring.7", r, START.date()),
                    context=extra,
                )
            ]
        )
        queued = resident_messages_queue(
            template="visa_expiring",
            items=[
                (r.pk, reminder_key("registration.visa_expiring.7", r, START.date()), extra)
                for r in as_set
            ],
        )
    assert queued == 5
    for one, other in zip(per_row, as_set, strict=True):
        assert outbox_of(other) == outbox_of(one)
    assert set(Message.objects.values_list("language", flat=True)) == {"en", "zh-hans"}
    assert Message.objects.filter(to="cy@example.org").count() == 2


def test_a_second_run_queues_ends_and_writes_nothing_new(
    station, django_capture_on_commit_callbacks
):
    _per_row, as_set = twins(station)
    with at(START - datetime.timedelta(days=30)):
        RegistrationFactory(
            station=station,
            status=S.REGISTERED,
            visa_valid_until=(START + datetime.timedelta(days=7)).date(),
        )
    with at(START), django_capture_on_commit_callbacks(execute=True):
        first = reminders_run(today=START.date(), dry_run=False)
        counts = (
            Message.objects.count(),
            Amendment.objects.count(),
            Registration.history.count(),
        )
        second = reminders_run(today=START.date(), dry_run=False)
    queued = {o.rule: o.queued for o in first}
    assert queued["registration.visa_expired"] == 10  # both twins' registrations end
    assert queued["registration.visa_expiring"] == 1
    assert sum(o.queued for o in second) == 0
    assert (
        Message.objects.count(),
        Amendment.objects.count(),
        Registration.history.count(),
    ) == counts
    assert len(set(Message.objects.values_list("idempotency_key", flat=True))) == counts[0]
    assert all(r.history.count() == 2 for r in as_set)


def test_messages_are_published_only_after_commit_and_not_at_all_on_rollback(
    station, django_capture_on_commit_callbacks
):
    _per_row, as_set = twins(station)
    with (
        at(START),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        end_as_a_set(as_set)
        raise RuntimeError("the run fails before it commits")
    assert callbacks == []
    assert not Message.objects.exists()
    assert not Amendment.objects.filter(kind=AmendmentKind.ENDED).exists()
    assert set(Registration.objects.values_list("status", flat=True)) == set(STATUSES)
    with at(START), django_capture_on_commit_callbacks(execute=False) as callbacks:
        end_as_a_set(as_set)
        assert mail.outbox == []
    assert len(callbacks) == 1  # one publication for the chunk, run at commit
    callbacks[0]()
    assert len(mail.outbox) == 3  # the three with an email address (two texts by SMS)


def test_text_messages_of_a_night_run_wait_for_the_morning(
    station, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = ("22:00", "08:00")
    _per_row, as_set = twins(station)
    night = datetime.datetime(2026, 3, 1, 23, 0, tzinfo=SHANGHAI)
    with at(night), django_capture_on_commit_callbacks(execute=True):
        end_as_a_set(as_set)
    morning = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
    texts = Message.objects.filter(channel=Channel.SMS)
    emails = Message.objects.filter(channel=Channel.EMAIL)
    assert texts.count() == 2
    assert set(texts.values_list("next_attempt_at", "published_at")) == {(morning, None)}
    assert set(emails.values_list("next_attempt_at", flat=True)) == {night}
    assert set(emails.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert set(texts.values_list("status", flat=True)) == {MessageStatus.CREATED}


def test_broker_down_at_commit_leaves_the_set_for_the_sweep(
    station, monkeypatch, django_capture_on_commit_callbacks
):
    _per_row, as_set = twins(station)

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.messages_deliver_batch, "apply_async", broken)
        with at(START), django_capture_on_commit_callbacks(execute=True):
            end_as_a_set(as_set)  # no exception reaches the run
    assert set(Message.objects.values_list("status", "published_at")) == {
        (MessageStatus.CREATED, None)
    }
    with at(START):
        assert messages_sweep(older_than=datetime.timedelta(0)).published == 5
        assert messages_sweep(older_than=datetime.timedelta(0)).published == 0
    assert len(mail.outbox) == 3  # each email once


def test_ending_a_chunk_costs_the_same_queries_for_4_or_60_registrations(
    station, django_capture_on_commit_callbacks
):
    ContentType.objects.get_for_model(Registration)  # cached for both runs
    counts = []
    for count, day in ((4, START), (60, START + datetime.timedelta(days=1))):
        with at(START - datetime.timedelta(days=30)):
            RegistrationFactory.create_batch(
                count,
                station=station,
                status=S.REGISTERED,
                visa_valid_until=day.date() - datetime.timedelta(days=1),
            )
        # The due ids; then the chunk: locked re-read, UPDATE, history INSERT … SELECT,
        # amendments, the messages (PostgreSQL: one INSERT … SELECT; SQLite: the rows, the
        # keys found, INSERT, ids read back), in one transaction.
        with (
            at(day),
            django_capture_on_commit_callbacks(),
            CaptureQueriesContext(connection) as queries,
        ):
            outcome = reminders.visa_expired(today=day.date(), dry_run=False)
        assert (outcome.due, outcome.queued) == (count, count)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 13
    assert Message.objects.count() == 64


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_in_small_chunks_end_and_remind_each_once(station, monkeypatch):
    monkeypatch.setattr(reminders, "CHUNK", 7)
    with at(START - datetime.timedelta(days=30)):
        expired = RegistrationFactory.create_batch(
            45,
            station=station,
            status=S.REGISTERED,
            visa_valid_until=START.date() - datetime.timedelta(days=1),
        )
        RegistrationFactory.create_batch(
            30,
            station=station,
            status=S.REGISTERED,
            visa_valid_until=(START + datetime.timedelta(days=7)).date(),
        )
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        with at(START):
            barrier.wait()
            try:
                outcomes.append(reminders_run(today=START.date(), dry_run=False))
            finally:
                connection.close()

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(120)
    assert [o.error for outcome in outcomes for o in outcome if o.error] == []
    keys = list(Message.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)) == 45 + 30
    assert Message.objects.filter(template="registration/ended_visa_expired").count() == 45
    assert Amendment.objects.filter(kind=AmendmentKind.ENDED).count() == 45
    assert all(r.history.count() == 2 for r in expired)
    by_rule: dict[str, int] = {}
    for outcome in outcomes:
        for o in outcome:
            by_rule[o.rule] = by_rule.get(o.rule, 0) + o.queued
    assert by_rule["registration.visa_expired"] == 45
    assert by_rule["registration.visa_expiring"] == 30


def due_by_every_resident_rule(station) -> list:
    """Registrations each resident rule finds due at START: every visa threshold (a catch-up
    day, the day itself), a correction request answered neither side of midnight in Shanghai
    (its key's date is the local one), a departure passed."""
    today = START.date()
    made = []
    with at(START - datetime.timedelta(days=60)):
        for n, days in enumerate((30, 29, 7, 6, 5, 1, 0)):
            made.append(
                RegistrationFactory(
                    station=station,
                    status=STATUSES[n % len(STATUSES)],
                    visa_valid_until=today + datetime.timedelta(days=days),
                    **{f"resident__{k}": v for k, v in CONTACTS[n % len(CONTACTS)].items()},
                )
            )
        for n, changed in enumerate(
            (
                # 01:30 in Shanghai on the 27th is still the 26th in UTC.
                datetime.datetime(2026, 2, 26, 17, 30, tzinfo=datetime.UTC),
                START - datetime.timedelta(hours=49),
            )
        ):
            registration = RegistrationFactory(
                station=station,
                status=S.CORRECTION_REQUESTED,
                visa_valid_until=today + datetime.timedelta(days=200),
                staff_message="Photo blurred",
                **{f"resident__{k}": v for k, v in CONTACTS[n].items()},
            )
            Registration.objects.filter(pk=registration.pk).update(status_changed_at=changed)
            made.append(registration)
        made.append(
            RegistrationFactory(
                station=station,
                status=S.REGISTERED,
                visa_valid_until=today + datetime.timedelta(days=200),
                expected_departure=today - datetime.timedelta(days=1),
                resident__email="dee@example.org",
            )
        )
    Message.objects.all().delete()
    return made


def outbox_rows() -> list[dict]:
    return [
        {k: v for k, v in row.items() if k != "id"}
        for row in Message.objects.order_by("idempotency_key").values()
    ]


@needs_postgresql
@pytest.mark.parametrize(
    "rule",
    [
        "registration.reminders.visa_expiring",
        "registration.reminders.correction_unanswered",
        "registration.reminders.departure_passed",
    ],
)
def test_a_rule_queued_where_its_rows_are_read_writes_what_the_streamed_items_write(
    station, monkeypatch, django_capture_on_commit_callbacks, rule
):
    """The rules' SQL (keys, thresholds, contexts, labels) against their Python path."""
    due_by_every_resident_rule(station)
    # Published after commit, not delivered here: the rows stay as recorded.
    with at(START), django_capture_on_commit_callbacks() as published:
        [in_sql] = reminders_run(today=START.date(), dry_run=False, rules=[rule])
    rows = outbox_rows()
    Message.objects.all().delete()
    with monkeypatch.context() as patch:
        patch.setattr(reminders, "sets_supported", lambda: False)  # stream, then the items
        with at(START), django_capture_on_commit_callbacks():
            [streamed] = reminders_run(today=START.date(), dry_run=False, rules=[rule])

    assert in_sql.error == streamed.error == ""
    assert (in_sql.due, in_sql.queued) == (streamed.due, streamed.queued)
    assert in_sql.queued > 0 and len(published) == 1
    assert sorted(in_sql.details) == sorted(streamed.details)
    assert rows == outbox_rows()


@needs_postgresql
def test_every_resident_rule_reads_and_queues_in_one_statement(station):
    due_by_every_resident_rule(station)
    rules = [
        "registration.reminders.visa_expiring",
        "registration.reminders.correction_unanswered",
        "registration.reminders.departure_passed",
    ]
    with at(START), CaptureQueriesContext(connection) as queries:
        outcomes = reminders_run(today=START.date(), dry_run=False, rules=rules)
    outbox = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    assert [o.queued > 0 for o in outcomes] == [True, True, True]
    assert len(outbox) == 3
    assert not any("jsonb_to_recordset" in sql for sql in outbox)
    # Each planned without JIT: its row estimate is far off, the compiling costs 70 ms.
    sqls = [q["sql"] for q in queries.captured_queries]
    assert all(sqls[sqls.index(sql) - 1] == "SET LOCAL jit = off" for sql in outbox)


def test_a_rules_compiled_query_takes_named_placeholders_and_keeps_its_percent_signs():
    from registration.services.reminder_sets import _named

    params = {"label": "x"}
    sql = _named("a = %s AND b LIKE '10%%' AND c IN (%s, %s)", [1, "two", 3], "rule_", params)
    assert sql == "a = %(rule_1)s AND b LIKE '10%%' AND c IN (%(rule_2)s, %(rule_3)s)"
    assert params == {"label": "x", "rule_1": 1, "rule_2": "two", "rule_3": 3}


@needs_postgresql
def test_a_parameter_name_of_the_outbox_statement_is_refused_not_overwritten():
    from notifications.services.queueing_sets import messages_queue_select

    with pytest.raises(ValueError, match="due_0"):
        messages_queue_select(
            select_sql="SELECT NULL WHERE %(due_0)s",
            params={"due_0": True},
            concerning_model=Registration,
        )
    assert Message.objects.count() == 0
