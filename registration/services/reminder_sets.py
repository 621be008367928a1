"""
Set-based writes of the daily reminder run (``registration/reminders.py``): a chunk of
registrations ended, or told something, in a constant number of queries whatever its size.

- ``registrations_end_expired``: ends the chunk's registrations whose visa expired — the
  locking read, the ``UPDATE``, the ``INSERT … SELECT`` of their history rows and of their
  amendments, one statement on PostgreSQL (data-modifying CTEs), four elsewhere — with
  the same rows ``registration_end`` writes one registration at a time
  (``tests/registration/test_reminder_sets.py`` compares them);
- ``resident_messages_queue``: the messages ``resident_message_specs`` would make for each
  registration of the chunk, recorded with one ``INSERT … SELECT`` on PostgreSQL
  (``notifications.services.queueing_sets``), else through ``message_queue_many``.
"""

import datetime
import json
import re

from django.db import connection
from django.utils import timezone

from notifications.services import message_queue_many
from notifications.services.queueing_sets import (
    messages_queue_select,
    messages_queue_select_reporting,
    sets_supported,
)
from registration.constants import (
    ACTIVE_STATUSES,
    TRANSITIONS,
    AmendmentKind,
    EndReason,
    RegistrationStatus,
)
from registration.models import Amendment, Registration, Resident
from registration.selectors import resident_routes_sql
from registration.services.notify import resident_message_specs

# What the resident rules read of a registration to build its messages (the rest of the row
# — encrypted numbers, addresses — is neither decrypted nor sent to Python).
MESSAGE_FIELDS = (
    "reference",
    "status",
    "staff_message",
    "visa_valid_until",
    "expected_departure",
    "status_changed_at",
    "station__id",
    "resident__surname",
    "resident__given_names",
    "resident__email",
    "resident__phone",
    "resident__preferred_channel",
    "resident__preferred_language",
)


def _history_values(source: str) -> tuple[list[str], list[str]]:
    """Columns and SQL values of one history row per registration row of ``source`` (an
    alias), as simple-history's ``post_save`` writes it: every tracked column as it is
    now, type "~", no user; ``%(now)s`` its date."""
    history = Registration.history.model
    own = {field.column for field in Registration._meta.concrete_fields}
    quote = connection.ops.quote_name
    columns, values = [], []
    for field in history._meta.concrete_fields:
        if field.primary_key:  # history_id
            continue
        columns.append(quote(field.column))
        if field.name == "history_date":
            values.append("%(now)s")
        elif field.name == "history_type":
            values.append("'~'")
        elif field.column in own:
            values.append(f"{source}.{quote(field.column)}")
        else:  # history_user, history_change_reason: none for a rule's run
            values.append("NULL")
    return columns, values


def _history_insert(ids: list[int], now: datetime.datetime) -> None:
    """``INSERT … SELECT`` of the history rows of the registrations ``ids``."""
    quote = connection.ops.quote_name
    columns, values = _history_values("r")
    placeholders = ", ".join(f"%(id_{n})s" for n in range(len(ids)))
    # Model metadata only; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(Registration.history.model._meta.db_table)} "  # noqa: S608
        f"({', '.join(columns)}) SELECT {', '.join(values)} "
        f"FROM {quote(Registration._meta.db_table)} r "
        f"WHERE r.id IN ({placeholders}) ORDER BY r.id"
    )
    params = {"now": connection.ops.adapt_datetimefield_value(now)}
    params.update({f"id_{n}": pk for n, pk in enumerate(ids)})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _end_expired_statement(pks: list[int], today: datetime.date, endable: list[str]):
    """PostgreSQL: the locking read, the ``UPDATE``, the history rows and the amendments of
    ``registrations_end_expired`` as one statement (data-modifying CTEs: one round trip,
    no model instance); return the ``(id, visa_valid_until)`` of those ended."""
    quote = connection.ops.quote_name
    table = quote(Registration._meta.db_table)
    history_columns, history_values = _history_values("e")
    amendment = {
        "registration_id": "e.id",
        "kind": "%(kind)s",
        "status_before": "e.linli_status_before",
        "status_after": "%(ended)s",
        "message": "''",
        "staff_user_id": "NULL",
        "created_at": "%(now)s",
    }
    assert set(amendment) == {
        f.column for f in Amendment._meta.concrete_fields if not f.primary_key
    }
    params = {
        "pks": pks,
        "endable": endable,
        "today": today,
        "ended": RegistrationStatus.ENDED,
        "reason": EndReason.VISA_EXPIRED,
        "kind": AmendmentKind.ENDED,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    # Model metadata and fixed SQL only; every value is a parameter. Rows another run holds
    # are skipped (that run ends them), rows already ended are not read.
    sql = (
        f"WITH locked AS (SELECT id, status FROM {table} "  # noqa: S608
        "WHERE id = ANY(%(pks)s) AND status = ANY(%(endable)s) AND visa_valid_until < %(today)s "
        "ORDER BY id FOR UPDATE SKIP LOCKED), "
        f"ended AS (UPDATE {table} AS r SET status = %(ended)s, status_changed_at = %(now)s, "
        "end_reason = %(reason)s, ended_at = %(now)s, departed_on = NULL, updated_at = %(now)s "
        "FROM locked WHERE r.id = locked.id "
        "RETURNING r.*, locked.status AS linli_status_before), "
        f"history AS (INSERT INTO {quote(Registration.history.model._meta.db_table)} "
        f"({', '.join(history_columns)}) SELECT {', '.join(history_values)} "
        "FROM ended AS e ORDER BY e.id), "
        f"amendments AS (INSERT INTO {quote(Amendment._meta.db_table)} "
        f"({', '.join(quote(c) for c in amendment)}) SELECT {', '.join(amendment.values())} "
        "FROM ended AS e ORDER BY e.id) "
        "SELECT id, visa_valid_until FROM ended ORDER BY id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, until) for pk, until in cursor.fetchall()]


def registrations_end_expired(
    *, pks: list[int], today: datetime.date
) -> list[tuple[int, datetime.date]]:
    """
    End those of the registrations ``pks`` still active whose visa expired before
    ``today`` (reason "visa expired"), in the caller's transaction; return the ``(id,
    visa_valid_until)`` of those ended. The rows are re-read under a lock that skips rows
    another run holds (that run ends them); rows already ended are left alone.
    """
    endable = [s for s in ACTIVE_STATUSES if RegistrationStatus.ENDED in TRANSITIONS[s]]
    if sets_supported():
        return _end_expired_statement(pks, today, endable)
    rows = Registration.objects.filter(
        pk__in=pks, status__in=endable, visa_valid_until__lt=today
    ).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    still = list(rows.values_list("pk", "status", "visa_valid_until"))
    if not still:
        return []
    ids = [pk for pk, _status, _until in still]
    now = timezone.now()
    Registration.objects.filter(pk__in=ids).update(
        status=RegistrationStatus.ENDED,
        status_changed_at=now,
        end_reason=EndReason.VISA_EXPIRED,
        ended_at=now,
        departed_on=None,
        updated_at=now,
    )
    _history_insert(ids, now)
    Amendment.objects.bulk_create(
        Amendment(
            registration_id=pk,
            kind=AmendmentKind.ENDED,
            status_before=before,
            status_after=RegistrationStatus.ENDED,
            message="",
            staff_user=None,
            created_at=now,
        )
        for pk, before, _until in still
    )
    return [(pk, until) for pk, _status, until in still]


# The items of resident_messages_queue: one JSON parameter, not three arrays (far cheaper
# to send than 3 × 2000 values).
_ITEMS = "jsonb_to_recordset(%(items)s::jsonb) AS d(id bigint, key text, extra jsonb)"


def _messages_select(params: dict, source: str = _ITEMS, registrations: str = "") -> str:
    """The messages of ``resident_message_specs`` for each ``(id, key, extra)`` row ``d`` of
    ``source`` (by default the JSON array ``%(items)s``), as ``queueing_sets.SELECT_COLUMNS``;
    the registration's columns from the table, or from ``registrations`` (``_CARRIED``)."""
    quote = connection.ops.quote_name
    registrations = registrations or quote(Registration._meta.db_table)
    residents = quote(Resident._meta.db_table)
    # How to reach each resident: resident_routes' rule, in SQL (WeChat, email, SMS).
    routes = resident_routes_sql("p", params)
    # Resident.full_name: the surname in capitals, then the given names.
    # Table names from model metadata only; every value is a parameter.
    return (
        "SELECT d.key || ':' || ch.channel, %(template)s, p.preferred_language, ch.channel, "  # noqa: S608
        "ch.address, concat_ws(' ', nullif(upper(p.surname), ''), nullif(p.given_names, '')), "
        "jsonb_build_object('reference', r.reference, 'status', r.status, "
        "'staff_message', r.staff_message) || d.extra, r.station_id, r.id::text "
        f"FROM {source} "
        f"JOIN {registrations} r ON r.id = d.id JOIN {residents} p ON p.id = r.resident_id "
        f"CROSS JOIN LATERAL ({routes}) AS ch(channel, address)"
    )


def resident_messages_queue(*, template: str, items: list[tuple[int, str, dict]]) -> int:
    """
    Queue ``messages/registration/<template>`` to the resident of each registration of
    ``items`` — ``(registration id, key, extra context)``, as for ``resident_message_specs``
    — in one transaction; return how many messages were newly queued (a key already in the
    outbox is skipped). Delivery is published once the transaction commits.
    """
    if not items:
        return 0
    if sets_supported():
        params = {
            "template": f"registration/{template}",
            "items": json.dumps(
                [{"id": pk, "key": key, "extra": extra or {}} for pk, key, extra in items]
            ),
        }
        select_sql = _messages_select(params)
        return messages_queue_select(
            select_sql=select_sql, params=params, concerning_model=Registration
        )
    registrations = Registration.objects.select_related("resident", "station").only(*MESSAGE_FIELDS)
    found = registrations.in_bulk([pk for pk, _key, _extra in items])
    specs = []
    for pk, key, extra in items:
        if pk in found:
            specs += resident_message_specs(
                registration=found[pk], template=template, key=key, context=extra
            )
    messages = message_queue_many(messages=specs, chunk_size=max(1, len(specs)))
    return sum(message.newly_queued for message in messages)


def _named(sql: str, values, prefix: str, params: dict) -> str:
    """``sql`` compiled by Django (``%s`` placeholders, ``%%`` for a percent sign) with named
    placeholders instead, its ``values`` added to ``params``: psycopg takes one style a
    statement, and the outbox statement names its parameters."""
    values = iter(values)

    def name(match) -> str:
        if match.group(0) == "%%":
            return "%%"
        key = f"{prefix}{len(params)}"
        params[key] = next(values)
        return f"%({key})s"

    return re.sub(r"%[%s]", name, sql)


# What the messages read of a registration (context, station, resident), carried along
# from the rule's own read of its due rows rather than read again row by row.
_CARRIED = ("reference", "status", "staff_message", "station_id", "resident_id")


def resident_messages_queue_due(
    *, template: str, due, fields: tuple[str, ...], shape_sql: str, params: dict
) -> tuple[int, list[str]]:
    """
    PostgreSQL: queue ``messages/registration/<template>`` to the resident of each due row
    of a rule in one statement that also reads them — no row through Python, no id sent back.

    ``due``: the rule's registrations (a queryset); ``fields``: the columns the rule decides
    with; ``shape_sql``: a ``SELECT`` over those rows (``due0``: ``id``, ``_CARRIED`` and
    ``fields``) that yields, for each row still due, ``(id, key, extra context as jsonb,
    label)`` — the key, context and label the rule's Python path makes
    (``registration/reminders.py``; the twin tests compare). Return how many messages were
    newly queued and the labels of the due rows. Delivery is published once the
    statement's transaction commits; a key already in the outbox is skipped, so a second
    run, or one at the same time, queues nothing twice.
    """
    params = {**params, "template": f"registration/{template}"}
    columns = ("id", *_CARRIED, *fields)
    compiled, values = due.order_by().values_list(*columns).query.sql_with_params()
    rows = _named(compiled, values, "rule_", params)
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    before = f"due0 ({names}) AS ({rows}), due (id, key, extra, label) AS ({shape_sql})"
    inserted, labels = messages_queue_select_reporting(
        select_sql=_messages_select(params, source="due AS d", registrations="due0"),
        params=params,
        concerning_model=Registration,
        before=before,
        report="SELECT label FROM due",
    )
    return inserted, labels
