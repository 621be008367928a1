"""
Fast generation of many residents and registrations on PostgreSQL.

One ``INSERT … SELECT … FROM generate_series()`` per table and batch: the rows are made by
PostgreSQL itself, no Python loop per row (a million registrations take well under a
minute here). Every concrete model field gets a value: the ones listed below are made
realistic (statuses, visa expiries and arrivals spread over two years, unique references
and blind indexes); any other field — one added later — gets its default, NULL or a neutral
value of its type, so the generator keeps working when the models grow.

Document and visa numbers are encrypted at rest: every generated row carries the same
valid ciphertext (encrypted once through the model field), so the admin can decrypt it.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone

BATCH = 250_000
NATIONALITIES = "ARRAY['DE','FR','GB','US','KR','JP','RU','NG','BR','IN','IT','ES']"
VISA_TYPES = "ARRAY['Z','X1','Q1','S1','residence_permit','M','L']"
# Status mix of a city's archive: most stays ended or registered, a small queue waiting.
STATUS = """CASE
  WHEN g.i % 1000 < 450 THEN 'ended'
  WHEN g.i % 1000 < 970 THEN 'registered'
  WHEN g.i % 1000 < 987 THEN 'rejected'
  WHEN g.i % 1000 < 995 THEN 'submitted'
  WHEN g.i % 1000 < 998 THEN 'correction_requested'
  ELSE 'resubmitted' END"""
# Registered, submitted, correction requested, resubmitted: the active stays.
ACTIVE = "(g.i % 1000 >= 987 OR (g.i % 1000 >= 450 AND g.i % 1000 < 970))"
ARRIVAL = "(%(now)s - make_interval(days => (g.i * 31) % 400, hours => g.i % 24))"
# Steady state, as after the daily reminder run: an active stay's visa expires from
# yesterday (ended by today's run) to two years ahead; ended ones expired any time.
VISA_UNTIL = f"""(CASE WHEN {ACTIVE}
  THEN %(today)s::date - 1 + ((g.i * 7919) % 731)
  ELSE %(today)s::date - 400 + ((g.i * 7919) % 760) END)"""
# Expected departures of active stays spread from 3 days ago to two years ahead.
DEPARTURE = f"""(CASE WHEN {ACTIVE}
  THEN least({VISA_UNTIL}, %(today)s::date - 3 + ((g.i * 13) % 700))
  ELSE {VISA_UNTIL} - 1 END)"""
STATUS_CHANGED = """CASE WHEN g.i % 1000 >= 987
  THEN %(now)s - make_interval(hours => g.i % 336)
  ELSE %(now)s - make_interval(days => g.i % 365) END"""

RESIDENT = {
    "id": "%(r0)s + g.i",
    "surname": "'BENCH' || g.i",
    "given_names": "'Alex'",
    "sex": "CASE WHEN g.i % 2 = 0 THEN 'female' ELSE 'male' END",
    "date_of_birth": "DATE '1970-01-01' + (g.i % 15000)",
    "nationality": f"({NATIONALITIES})[1 + g.i % 12]",
    "document_type": "'passport'",
    "document_number": "%(document_number)s",
    "document_number_index": "md5('d' || (%(r0)s + g.i)) || md5('e' || (%(r0)s + g.i))",
    "document_expiry": "%(today)s::date + 2000",
    "phone": "'+86138' || lpad((g.i % 100000000)::text, 8, '0')",
    "email": "'r' || (%(r0)s + g.i) || '@example.org'",
    "preferred_language": "CASE WHEN g.i % 4 = 0 THEN 'zh-hans' ELSE 'en' END",
    "preferred_channel": "CASE WHEN g.i % 5 = 0 THEN 'sms' ELSE 'email' END",
    "contact_consent": "(g.i % 3 = 0)",
}
REGISTRATION = {
    "id": "%(g0)s + g.i",
    "reference": "'BN-' || upper(lpad(to_hex(%(g0)s + g.i), 8, '0'))",
    "resident_id": "%(r0)s + g.i",
    "station_id": "(%(stations)s::bigint[])[1 + g.i % %(station_count)s]",
    "status": STATUS,
    "status_changed_at": STATUS_CHANGED,
    "visa_type": f"({VISA_TYPES})[1 + g.i % 7]",
    "visa_number": "%(visa_number)s",
    "visa_number_index": "md5('v' || (%(g0)s + g.i)) || md5('w' || (%(g0)s + g.i))",
    "visa_valid_until": VISA_UNTIL,
    "entry_date": f"least(%(today)s::date - 1, {VISA_UNTIL} - 60) - (g.i % 300)",
    "port_of_entry": "'Baiyun Airport'",
    "arrival_at": ARRIVAL,
    "deadline_at": f"{ARRIVAL} + interval '24 hours'",
    "expected_departure": DEPARTURE,
    "stay_reason": "'work'",
    "address": "'Room ' || (g.i % 9000) || ', ' || g.i || ' Bench Road'",
    "accommodation_type": "'rented'",
    "host_name": "'Li Wei'",
    "consent_notice_version": "%(notice)s",
    "consent_given_at": f"{ARRIVAL} + interval '3 hours'",
    "submitted_at": f"{ARRIVAL} + interval '3 hours'",
    "language": "'en'",
    "end_reason": f"CASE WHEN {STATUS} = 'ended' THEN 'departed' ELSE '' END",
    "ended_at": f"CASE WHEN {STATUS} = 'ended' THEN {STATUS_CHANGED} END",
}


def _neutral(field, params: dict, name: str) -> str:
    """SQL for a field the generator does not know: default, NULL or a neutral value."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return "%(now)s"
    if field.has_default():
        params[name] = field.get_db_prep_save(field.get_default(), connection)
        return f"%({name})s"
    if field.null:
        return "NULL"
    kind = field.get_internal_type()
    if kind in ("CharField", "TextField", "EmailField", "SlugField", "URLField"):
        return "''"
    if kind == "DateField":
        return "%(today)s::date"
    if kind == "DateTimeField":
        return "%(now)s"
    if kind == "BooleanField":
        return "false"
    if "Integer" in kind or kind in ("FloatField", "DecimalField"):
        return "0"
    if kind == "JSONField":
        return "'{}'::jsonb"
    raise RuntimeError(f"bench.datagen: no value for {field.model.__name__}.{field.name}")


def _insert_sql(model, known: dict, params: dict) -> str:
    columns, values = [], []
    for field in model._meta.concrete_fields:
        columns.append(connection.ops.quote_name(field.column))
        name = f"f_{model.__name__}_{field.attname}"
        values.append(known.get(field.attname) or _neutral(field, params, name))
    # Model metadata and fixed expressions only; every value is a parameter.
    table = connection.ops.quote_name(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM generate_series(1, %(n)s) AS g(i)"
    )
    return sql.replace(" % ", " %% ")  # a modulo, not a placeholder


def registrations_add(count: int, *, log=None) -> int:
    """Add ``count`` residents, each with one registration at one of the stations."""
    from registration.constants import CONSENT_NOTICE_VERSION
    from registration.models import Registration, Resident
    from stations.models import Station

    if count <= 0:
        return 0
    station_ids = list(Station.objects.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    params = {
        "now": now,
        "today": timezone.localdate(now),
        "stations": station_ids,
        "station_count": len(station_ids),
        "notice": CONSENT_NOTICE_VERSION,
        "document_number": Resident._meta.get_field("document_number").get_db_prep_save(
            "E12345678", connection
        ),
        "visa_number": Registration._meta.get_field("visa_number").get_db_prep_save(
            "Z87654321", connection
        ),
    }
    resident_sql = _insert_sql(Resident, RESIDENT, params)
    registration_sql = _insert_sql(Registration, REGISTRATION, params)
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM registration_resident")
            r0 = cursor.fetchone()[0]
            cursor.execute("SELECT coalesce(max(id), 0) FROM registration_registration")
            g0 = cursor.fetchone()[0]
            batch = {**params, "n": n, "r0": r0, "g0": g0}
            cursor.execute(resident_sql, batch)
            cursor.execute(registration_sql, batch)
        done += n
        if log:
            log(f"   {done:,} / {count:,} registrations")
    with connection.cursor() as cursor:
        for table in ("registration_resident", "registration_registration"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE registration_resident")
        cursor.execute("VACUUM ANALYZE registration_registration")
    return count


def today_local() -> datetime.date:
    return timezone.localdate()
