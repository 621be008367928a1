"""
Record a set of messages in the outbox with one ``INSERT … SELECT`` (PostgreSQL).

The set-based ``message_queue_many`` for a daily run over a city's archive: the owning app
writes a ``SELECT`` that yields the messages (who, what, in which language, about which
record) and this module writes them in one statement, filling in what the outbox decides
itself exactly as ``queueing._message_fields`` does for one message:

- the language, resolved against ``settings.LANGUAGES`` (``language_resolve``);
- the recipient, stripped, and the thread (``ordering.thread_key``: the record, the
  channel and the hashed recipient) so that ordering and superseding see these messages;
- when each is due (``timing.due_time``: now, or the end of the quiet hours for SMS);
- every other column at its model default.

``ON CONFLICT (idempotency_key) DO NOTHING``: a key already recorded, by an earlier run or
by a run at the same time, is not recorded twice, and only what this statement inserted
is returned and published, once the caller's transaction commits. No row reaches Python.
``tests/registration/test_reminder_sets.py`` checks the rows equal those of
``message_queue_many`` for the same messages.
"""

import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from notifications.constants import MESSAGE_CHANNELS
from notifications.models import Message
from notifications.services.publishing import message_publish_moments_on_commit
from notifications.timing import due_time

# What the caller's SELECT yields, in this order (``context`` as jsonb, ``concerning_id`` text).
SELECT_COLUMNS = (
    "idempotency_key",
    "template",
    "language",
    "channel",
    "to",
    "recipient_name",
    "context",
    "station_id",
    "concerning_id",
)
# What Python's str.strip() removes from an address (ASCII whitespace).
_WHITESPACE = " \t\n\r\x0b\x0c"


def sets_supported() -> bool:
    """Whether this database takes the set-based path (else: ``message_queue_many``)."""
    return connection.vendor == "postgresql"


def _defaults(params: dict) -> dict[str, str]:
    """SQL for the columns the caller's SELECT does not give: what a new ``Message()`` holds
    (each field's default; "" for text, NULL where allowed)."""
    values = {}
    for field in Message._meta.concrete_fields:
        if field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values[field.column] = "%(now)s"
            continue
        name = f"default_{field.column}"
        params[name] = field.get_db_prep_save(field.get_default(), connection)
        values[field.column] = f"%({name})s"
    return values


def _language_sql(params: dict) -> str:
    """``language_resolve`` in SQL: a code of ``settings.LANGUAGES`` whatever its case and
    separator, else ``LANGUAGE_CODE``."""
    cases = []
    for n, (code, _label) in enumerate(settings.LANGUAGES):
        params[f"lang_{n}"] = code.lower()
        params[f"code_{n}"] = code
        cases.append(f"WHEN %(lang_{n})s THEN %(code_{n})s")
    params["language_code"] = settings.LANGUAGE_CODE
    return (
        "CASE lower(replace(coalesce(m.language, ''), '_', '-')) "
        f"{' '.join(cases)} ELSE %(language_code)s END"
    )


def _due_sql(params: dict, now: datetime.datetime) -> str:
    """``due_time`` for each channel, computed once: SMS waits for the end of the quiet hours."""
    cases = []
    for n, channel in enumerate(MESSAGE_CHANNELS):
        params[f"channel_{n}"] = channel
        params[f"due_{n}"] = due_time(channel=channel, moment=now)
        cases.append(f"WHEN %(channel_{n})s THEN %(due_{n})s")
    return f"CASE m.channel {' '.join(cases)} END"


def messages_queue_select(*, select_sql: str, params: dict, concerning_model) -> int:
    """
    Record in the outbox, in the caller's transaction, the messages ``select_sql`` yields
    (``SELECT_COLUMNS``, named parameters ``params``) about records of ``concerning_model``;
    publish them after commit. Return how many were inserted: a key already in the outbox
    is skipped, not doubled. PostgreSQL only (``sets_supported``).
    """
    inserted, _reported = messages_queue_select_reporting(
        select_sql=select_sql, params=params, concerning_model=concerning_model
    )
    return inserted


def messages_queue_select_reporting(
    *, select_sql: str, params: dict, concerning_model, before: str = "", report: str = ""
) -> tuple[int, list]:
    """
    ``messages_queue_select`` that reads the caller's own rows in the same statement:
    ``before``, common table expressions that ``select_sql`` reads (``name AS (…), …``);
    ``report``, a ``SELECT`` of one value over them (say, each due row's label), returned
    beside the number of messages inserted: ``(inserted, reported values)``. A parameter
    name this statement uses itself (``now``, ``due_0``…) is refused, not overwritten.
    """
    now = timezone.now()
    given_params, params = params, {"now": now, "whitespace": _WHITESPACE}  # and this module's
    content_type = ContentType.objects.get_for_model(concerning_model)
    params["concerning_type"] = content_type.pk
    params["subject"] = f"{content_type.app_label}.{content_type.model}:"
    # Each computed once per row (the subqueries below, kept apart by OFFSET 0 so that the
    # planner does not copy the expressions into every use), not once per use.
    to = "btrim(coalesce(m.\"to\", ''), %(whitespace)s)"
    # ordering.thread_key: "<subject>:<channel>:<16 hex of sha256(lower(to))>", hashed if long.
    thread = (
        "%(subject)s || m.concerning_id || ':' || m.channel || ':' || "
        "left(encode(sha256(convert_to(lower(m.to_), 'UTF8')), 'hex'), 16)"
    )
    values = {
        "idempotency_key": "m.idempotency_key",
        "template": "m.template",
        "language": _language_sql(params),
        "channel": "m.channel",
        "to": "m.to_",
        "recipient_name": "coalesce(m.recipient_name, '')",
        "context": "coalesce(m.context, '{}'::jsonb)",
        "station_id": "m.station_id",
        "concerning_type_id": "%(concerning_type)s",
        "concerning_id": "m.concerning_id",
        "thread": (
            "CASE WHEN length(m.thread_) > 255 THEN 'thread:' || "
            "encode(sha256(convert_to(m.thread_, 'UTF8')), 'hex') ELSE m.thread_ END"
        ),
        "next_attempt_at": "m.due_",
        # Handed to the broker right after commit when due soon: noted here, not by a second
        # write of every row (``message_publish_moments_on_commit`` clears it if that fails).
        "published_at": "CASE WHEN m.due_ <= %(publish_until)s THEN %(now)s END",
    }
    params["publish_until"] = now + datetime.timedelta(seconds=settings.NOTIFICATIONS_MAX_COUNTDOWN)
    values = {**_defaults(params), **values}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in values)
    names = ", ".join(quote(column) for column in SELECT_COLUMNS)
    # Model metadata and fixed SQL only; every value is a parameter. The ORDER BY makes
    # two runs at once take the keys in one order: the second waits for the first's commit
    # and skips what it inserted, instead of the two waiting for each other (a deadlock).
    insert = (
        f"INSERT INTO {quote(Message._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {', '.join(values.values())} FROM (SELECT m.*, {thread} AS thread_ FROM "
        f"(SELECT m.*, {to} AS to_, {_due_sql(params, now)} AS due_ FROM given AS m OFFSET 0) "
        "AS m OFFSET 0) AS m "
        "ORDER BY m.concerning_id, m.channel "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, next_attempt_at"
    )
    given = f"{before + ', ' if before else ''}given ({names}) AS ({select_sql})"
    # The inserted ids come back grouped by when they are due (a few moments: now, the end
    # of the quiet hours), as the publishing groups them: not one row per message.
    sql = (
        f"WITH {given}, inserted AS ({insert}) "  # noqa: S608 (fixed SQL, values as parameters)
        "SELECT next_attempt_at, array_agg(id ORDER BY id), NULL FROM inserted "
        "GROUP BY next_attempt_at"
    )
    if report:
        sql += f" UNION ALL SELECT NULL, NULL, reported.value FROM ({report}) AS reported (value)"  # noqa: S608
    if clash := sorted(params.keys() & given_params.keys()):
        raise ValueError(f"parameter names taken by the outbox statement: {clash}")
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner cannot foresee how many messages the routes' LATERAL join yields (30
        # times too many for the bench's run); past jit_above_cost PostgreSQL then compiles
        # the statement, 70 ms of a 360 ms statement over thousands of rows, for nothing.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, {**given_params, **params})
        rows = cursor.fetchall()
        moments = {moment: ids for moment, ids, _value in rows if ids is not None}
        if moments:
            message_publish_moments_on_commit(moments=moments, marked=True)
    inserted = sum(len(ids) for ids in moments.values())
    return inserted, [value for _moment, ids, value in rows if ids is None]
