"""
Reminder rules of the registration app, run daily by ``notifications.reminders``.

Each rule is ``rule(*, today, dry_run) -> RuleOutcome``: one set-based query over indexed
columns (status + a date) finds the due rows — no model instance, nothing decrypted. On
PostgreSQL a rule that only tells residents queues their messages in the statement that
reads that query (``resident_messages_queue_due``: the key, context and label in SQL, twins
of the Python below); the rule that ends registrations, and every rule elsewhere or in a
dry run, streams the due rows' ids and the few columns it decides with, and a chunk at a
time ends what must end and queues the messages with set-based writes
(``registration.services.reminder_sets``: one ``UPDATE`` with its history rows and
amendments, and one outbox ``INSERT … SELECT`` per chunk on PostgreSQL). Each message is
keyed ``reminder_key(rule, registration, due)``, so that running a rule twice queues
nothing new. A missed day is caught up: windows look back a few days, keys keep one
reminder per due date.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.db import stream_all
from notifications.reminders import RuleOutcome, reminder_key, reminder_key_of
from notifications.services import MessageSpec, message_queue_many, staff_message_spec
from notifications.services.queueing_sets import sets_supported
from registration.constants import ACTIVE_STATUSES, EndReason, RegistrationStatus
from registration.models import Registration
from registration.services import (
    registrations_end_expired,
    resident_messages_queue,
    resident_messages_queue_due,
)
from stations.constants import MembershipRole
from stations.selectors import station_staff

logger = logging.getLogger(__name__)
# Due rows per chunk: per chunk a constant number of queries, in one transaction.
CHUNK = 2000
# How many days back a rule catches up after a missed run.
CATCH_UP_DAYS = 2
_LABEL = Registration._meta.label_lower


def _moment(today: datetime.date) -> datetime.datetime:
    """Return "now" on ``today`` (the current local time of day), for --today runs."""
    now = timezone.localtime()
    if today == now.date():
        return now
    return timezone.make_aware(datetime.datetime.combine(today, now.time().replace(tzinfo=None)))


def _key(rule: str, pk: int, due: datetime.date) -> str:
    """``reminder_key(rule, registration, due)`` from the registration's id alone."""
    return reminder_key_of(rule, _LABEL, pk, due)


class _Batch:
    """Staff messages gathered while a rule streams its rows, queued a chunk at a time."""

    def __init__(self, outcome: RuleOutcome):
        self.outcome = outcome
        self.specs: list[MessageSpec] = []

    def add(self, specs: list[MessageSpec]) -> None:
        self.specs += specs
        if len(self.specs) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.specs:
            messages = message_queue_many(messages=self.specs, chunk_size=len(self.specs))
            self.outcome.queued += sum(message.newly_queued for message in messages)
            self.specs = []


class _ResidentBatch:
    """Residents' messages of one template gathered while a rule streams its due rows —
    ``(registration id, key, extra context)`` — and queued a chunk at a time as a set."""

    def __init__(self, outcome: RuleOutcome, template: str):
        self.outcome = outcome
        self.template = template
        self.items: list[tuple[int, str, dict]] = []

    def add(self, pk: int, key: str, context: dict | None = None) -> None:
        self.items.append((pk, key, context or {}))
        if len(self.items) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.items:
            self.outcome.queued += resident_messages_queue(template=self.template, items=self.items)
            self.items = []


def _due(qs, *fields):
    """Stream ``fields`` of ``qs``'s rows: no ordering (a server-side cursor would otherwise
    make PostgreSQL pick a slow start-fast plan through the ordering index), no instances,
    planned for reading them all (``stream_all``)."""
    return stream_all(qs.order_by().values_list("pk", "reference", *fields), chunk_size=CHUNK)


def _key_sql(rule: str, due_date: str) -> str:
    """``_key`` in SQL, for a row ``d`` of ``due0`` and the SQL date ``due_date``: the key is
    never hashed (under 255 characters: ``_LABEL``, a rule's name and an id are short)."""
    return (
        f"'reminder:' || {rule} || ':' || %(label)s || ':' || d.id || ':' || "
        f"to_char({due_date}, 'YYYY-MM-DD')"
    )


def _queue_in_sql(outcome: RuleOutcome, rows, fields: tuple[str, ...], **queue) -> RuleOutcome:
    """The rule's messages queued where its due ``rows`` are read (PostgreSQL): see
    ``resident_messages_queue_due``; ``fields`` are the columns its SQL decides with."""
    queued, labels = resident_messages_queue_due(due=rows, fields=fields, **queue)
    outcome.due += len(labels)
    outcome.details += labels
    outcome.queued += queued
    return outcome


def visa_expiring(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Remind residents 30, 7 and 1 days (setting) before their visa or permit expires."""
    rule = "registration.visa_expiring"
    outcome = RuleOutcome(rule=rule)
    days = sorted(set(settings.REGISTRATION_VISA_REMINDER_DAYS))
    window = Q()
    for d in days:
        end = today + datetime.timedelta(days=d)
        window |= Q(
            visa_valid_until__range=(max(today, end - datetime.timedelta(CATCH_UP_DAYS)), end)
        )
    batch = _ResidentBatch(outcome, "visa_expiring")
    rows = Registration.objects.filter(window, status__in=ACTIVE_STATUSES)
    if not dry_run and sets_supported():
        params = {"today": today, "catch_up": CATCH_UP_DAYS, "label": _LABEL, "rule": rule}
        # The smallest threshold at or above the days left, as below.
        cases = []
        for n, d in enumerate(days):
            params[f"days_{n}"] = d
            cases.append(
                f"WHEN l.left_ BETWEEN %(days_{n})s::int - %(catch_up)s::int "
                f"AND %(days_{n})s::int THEN %(days_{n})s::int"
            )
        shape = (
            "SELECT d.id, "  # noqa: S608 (fixed SQL; every value is a parameter)
            + _key_sql("%(rule)s || '.' || t.threshold", "d.visa_valid_until - t.threshold")
            + ", jsonb_build_object('days', l.left_, 'valid_until', "
            "to_char(d.visa_valid_until, 'YYYY-MM-DD')), "
            "d.reference || ': ' || t.threshold || ' days' FROM due0 AS d "
            "CROSS JOIN LATERAL (SELECT d.visa_valid_until - %(today)s::date AS left_) AS l "
            f"CROSS JOIN LATERAL (SELECT CASE {' '.join(cases)} END AS threshold) AS t "
            "WHERE t.threshold IS NOT NULL"
        )
        return _queue_in_sql(
            outcome,
            rows,
            ("visa_valid_until",),
            template="visa_expiring",
            shape_sql=shape,
            params=params,
        )
    for pk, reference, valid_until in _due(rows, "visa_valid_until"):
        left = (valid_until - today).days
        # The smallest threshold at or above the days left (a catch-up run counts too).
        threshold = next((d for d in days if d - CATCH_UP_DAYS <= left <= d), None)
        if threshold is None:
            continue
        outcome.due += 1
        outcome.details.append(f"{reference}: {threshold} days")
        if dry_run:
            continue
        due = valid_until - datetime.timedelta(days=threshold)
        batch.add(
            pk,
            _key(f"{rule}.{threshold}", pk, due),
            {"days": left, "valid_until": valid_until.isoformat()},
        )
    batch.flush()
    return outcome


def visa_expired(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """
    End registrations whose visa or permit expired without an update; tell the resident.

    A chunk at a time in one transaction (``_expired_end``): the chunk's registrations are
    ended as a set and the residents' messages queued as a set, so an ending and its
    message are committed together. A chunk that fails is rolled back whole and logged;
    the next chunks still run, and the next run ends it. Another run at the same time (a
    second beat, a manual run) is no error: the rows it ended, or is ending, are skipped
    quietly.
    """
    rule = "registration.visa_expired"
    outcome = RuleOutcome(rule=rule)
    rows = Registration.objects.filter(status__in=ACTIVE_STATUSES, visa_valid_until__lt=today)
    pending: list[int] = []
    for pk, reference in _due(rows):
        outcome.due += 1
        outcome.details.append(reference)
        if dry_run:
            continue
        pending.append(pk)
        if len(pending) >= CHUNK:
            _expired_end(pending, today=today, outcome=outcome)
            pending = []
    if pending:
        _expired_end(pending, today=today, outcome=outcome)
    return outcome


def _expired_end(pks: list[int], *, today: datetime.date, outcome: RuleOutcome) -> None:
    """End those of the registrations ``pks`` that are still active and expired; tell them."""
    rule = outcome.rule
    try:
        with transaction.atomic():
            # Re-read under lock what is still to end: a concurrent run may have ended some
            # rows since they were read (their status says so), or be ending them now
            # (locked: skipped, that run tells the resident). SQLite serialises writers.
            ended = registrations_end_expired(pks=pks, today=today)
            resident_messages_queue(
                template="ended_visa_expired",
                items=[
                    (pk, _key(rule, pk, valid_until), {"end_reason": EndReason.VISA_EXPIRED})
                    for pk, valid_until in ended
                ],
            )
    except Exception:  # one bad chunk must not stop the others; the next run retries it
        logger.exception("Could not end %s registrations after visa expiry.", len(pks))
        return
    if len(ended) < len(pks):
        logger.info(
            "%s: %s of %s registrations were ended by another run meanwhile; skipped.",
            rule,
            len(pks) - len(ended),
            len(pks),
        )
    outcome.queued += len(ended)


def correction_unanswered(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Remind residents of a correction request unanswered for 48 hours (setting), once."""
    rule = "registration.correction_unanswered"
    outcome = RuleOutcome(rule=rule)
    cutoff = _moment(today) - datetime.timedelta(
        hours=settings.REGISTRATION_CORRECTION_REMINDER_HOURS
    )
    rows = Registration.objects.filter(
        status=RegistrationStatus.CORRECTION_REQUESTED,
        status_changed_at__lte=cutoff,
        status_changed_at__gt=cutoff - datetime.timedelta(days=CATCH_UP_DAYS + 1),
    )
    batch = _ResidentBatch(outcome, "correction_reminder")
    if not dry_run and sets_supported():
        params = {
            "label": _LABEL,
            "rule": rule,
            "zone": timezone.get_current_timezone_name(),
        }
        day = "(d.status_changed_at AT TIME ZONE %(zone)s)::date"
        shape = (
            f"SELECT d.id, {_key_sql('%(rule)s', day)}, "  # noqa: S608 (values as parameters)
            "'{}'::jsonb, d.reference FROM due0 AS d"
        )
        return _queue_in_sql(
            outcome,
            rows,
            ("status_changed_at",),
            template="correction_reminder",
            shape_sql=shape,
            params=params,
        )
    for pk, reference, changed_at in _due(rows, "status_changed_at"):
        outcome.due += 1
        outcome.details.append(reference)
        if dry_run:
            continue
        batch.add(pk, _key(rule, pk, timezone.localtime(changed_at).date()))
    batch.flush()
    return outcome


def departure_passed(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Ask residents whose expected departure date passed whether they have left, once."""
    rule = "registration.departure_passed"
    outcome = RuleOutcome(rule=rule)
    rows = Registration.objects.filter(
        status__in=ACTIVE_STATUSES,
        expected_departure__lt=today,
        expected_departure__gte=today - datetime.timedelta(days=CATCH_UP_DAYS + 1),
    )
    batch = _ResidentBatch(outcome, "departure_check")
    if not dry_run and sets_supported():
        shape = (
            f"SELECT d.id, {_key_sql('%(rule)s', 'd.expected_departure')}, "  # noqa: S608
            "jsonb_build_object('expected_departure', "
            "to_char(d.expected_departure, 'YYYY-MM-DD')), d.reference FROM due0 AS d"
        )
        return _queue_in_sql(
            outcome,
            rows,
            ("expected_departure",),
            template="departure_check",
            shape_sql=shape,
            params={"label": _LABEL, "rule": rule},
        )
    for pk, reference, departure in _due(rows, "expected_departure"):
        outcome.due += 1
        outcome.details.append(reference)
        if dry_run:
            continue
        batch.add(pk, _key(rule, pk, departure), {"expected_departure": departure.isoformat()})
    batch.flush()
    return outcome


def staff_waiting(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """
    Warn the station's officers of a submission still waiting near its 24-hour deadline.

    A submission whose deadline is less than ``REGISTRATION_STAFF_REMINDER_HOURS`` (6)
    away is reported once ("soon"), and once more when the deadline has passed
    ("overdue": the officer who let it slip needs to know, the police may ask). The rule
    runs every 15 minutes (``STAFF_ALERT_RULES``), so a resident who arrived at 21:00 is
    reported by 15:15 the next day, not the morning after the deadline. Each warning goes
    to every officer of the station (no officer: the managers): by email, and to the
    staff workspace's notifications for those without an email address.
    """
    rule = "registration.staff_waiting"
    outcome = RuleOutcome(rule=rule)
    hours = settings.REGISTRATION_STAFF_REMINDER_HOURS
    moment = _moment(today)
    qs = (
        Registration.objects.filter(
            status=RegistrationStatus.SUBMITTED,
            deadline_at__lte=moment + datetime.timedelta(hours=hours),
            deadline_at__gt=moment - datetime.timedelta(days=CATCH_UP_DAYS + 1),
        )
        .select_related("station")
        .order_by("station_id", "pk")
    )
    officers: dict[int, list] = {}
    language = settings.REGISTRATION_STAFF_LANGUAGE
    batch = _Batch(outcome)
    for registration in qs.iterator(chunk_size=CHUNK):
        station_id = registration.station_id
        if station_id not in officers:
            memberships = station_staff(station_ids=[station_id])
            users = [m.user for m in memberships if m.role == MembershipRole.OFFICER]
            officers[station_id] = users or [m.user for m in memberships]  # else managers
        overdue = registration.deadline_at <= moment
        stage = "overdue" if overdue else "soon"
        outcome.due += 1
        outcome.details.append(f"{registration.reference}: {stage}")
        if dry_run:
            continue
        admin_url = settings.SITE_URL + reverse(
            "admin:registration_registration_change", args=[registration.pk]
        )
        context = {
            "reference": registration.reference,
            "hours": hours,
            "overdue": overdue,
            "deadline": registration.deadline_at.isoformat(),
            "admin_url": admin_url,
        }
        deadline = timezone.localtime(registration.deadline_at).date()
        batch.add(
            [
                staff_message_spec(
                    user=user,
                    template="registration/staff_waiting",
                    language=language,
                    context=context,
                    key=reminder_key(f"{rule}.{stage}.{user.pk}", registration, deadline),
                    station=registration.station,
                    concerning=registration,
                )
                for user in officers[station_id]
            ]
        )
    batch.flush()
    return outcome
