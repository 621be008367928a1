"""
Reminder rules of the registration app, run daily by ``notifications.reminders``.

Each rule is ``rule(*, today, dry_run) -> RuleOutcome``: one set-based query over indexed
columns (status + a date), streamed in chunks; for each row the rule builds its messages
(``MessageSpec``, keyed ``reminder_key(rule, registration, due)``) and queues them a chunk at
a time with ``message_queue_many`` — a few queries and one broker call per chunk, not per
message — so running a rule twice queues nothing new.
A missed day is caught up: windows look back a few days, keys keep one reminder per due date.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from notifications.reminders import RuleOutcome, reminder_key
from notifications.services import MessageSpec, message_queue_many, staff_message_spec
from registration.constants import ACTIVE_STATUSES, EndReason, RegistrationStatus
from registration.models import Registration
from registration.services import registration_end, resident_message_specs
from stations.constants import MembershipRole
from stations.selectors import station_staff

logger = logging.getLogger(__name__)
CHUNK = 500
# How many days back a rule catches up after a missed run.
CATCH_UP_DAYS = 2


def _moment(today: datetime.date) -> datetime.datetime:
    """Return "now" on ``today`` (the current local time of day), for --today runs."""
    now = timezone.localtime()
    if today == now.date():
        return now
    return timezone.make_aware(datetime.datetime.combine(today, now.time().replace(tzinfo=None)))


class _Batch:
    """Specs gathered while a rule streams its rows, queued a chunk at a time."""

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


# What the resident rules read of a due row (``resident_message_specs`` and the rules): the rest of
# the row — encrypted numbers, addresses — is neither decrypted nor sent to Python. The
# station is only referred to by its id. Tests count queries: a field missing here would
# cost one query per row.
_FIELDS = (
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


def _streamed(qs):
    """``qs`` without its default ordering (a server-side cursor would otherwise make
    PostgreSQL pick a slow start-fast plan through the ordering index), only ``_FIELDS``."""
    return qs.select_related("resident", "station").only(*_FIELDS).order_by()


def _active():
    return _streamed(Registration.objects.filter(status__in=ACTIVE_STATUSES))


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
    batch = _Batch(outcome)
    for registration in _active().filter(window).iterator(chunk_size=CHUNK):
        left = (registration.visa_valid_until - today).days
        # The smallest threshold at or above the days left (a catch-up run counts too).
        threshold = next((d for d in days if d - CATCH_UP_DAYS <= left <= d), None)
        if threshold is None:
            continue
        due = registration.visa_valid_until - datetime.timedelta(days=threshold)
        outcome.due += 1
        outcome.details.append(f"{registration.reference}: {threshold} days")
        if dry_run:
            continue
        batch.add(
            resident_message_specs(
                registration=registration,
                template="visa_expiring",
                key=reminder_key(f"{rule}.{threshold}", registration, due),
                context={
                    "days": left,
                    "valid_until": registration.visa_valid_until.isoformat(),
                },
            )
        )
    batch.flush()
    return outcome


def visa_expired(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """
    End registrations whose visa or permit expired without an update; tell the resident.

    A chunk at a time in one transaction (``_expired_end``): each registration is ended (its
    own savepoint: one bad row does not stop the others) and the residents' messages are
    queued together with ``message_queue_many``, so an ending and its message are committed
    together. Another run at the same time (a second beat, a manual run) is no error: the
    rows it ended, or is ending, are skipped quietly.
    """
    rule = "registration.visa_expired"
    outcome = RuleOutcome(rule=rule)
    rows = (
        Registration.objects.filter(status__in=ACTIVE_STATUSES, visa_valid_until__lt=today)
        .order_by()
        .values_list("pk", "reference")
        .iterator(chunk_size=CHUNK)
    )
    pending: list[int] = []
    for pk, reference in rows:
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
    specs: list[MessageSpec] = []
    with transaction.atomic():
        # Re-read under lock what is still to end: a concurrent run may have ended some rows
        # since they were read (their status says so), or be ending them now (locked:
        # skipped, that run tells the resident). SQLite serialises writers instead.
        still = list(
            Registration.objects.select_for_update(skip_locked=True)
            .filter(pk__in=pks, status__in=ACTIVE_STATUSES, visa_valid_until__lt=today)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(still) < len(pks):
            logger.info(
                "%s: %s of %s registrations were ended by another run meanwhile; skipped.",
                rule,
                len(pks) - len(still),
                len(pks),
            )
        for pk in still:
            try:
                registration = registration_end(
                    registration=Registration(pk=pk), reason=EndReason.VISA_EXPIRED
                )
            except Exception:  # one bad row must not stop the others
                logger.exception("Could not end registration %s after visa expiry.", pk)
                continue
            outcome.queued += 1
            specs += resident_message_specs(
                registration=registration,
                template="ended_visa_expired",
                key=reminder_key(rule, registration, registration.visa_valid_until),
                context={"end_reason": EndReason.VISA_EXPIRED},
            )
        message_queue_many(messages=specs)


def correction_unanswered(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Remind residents of a correction request unanswered for 48 hours (setting), once."""
    rule = "registration.correction_unanswered"
    outcome = RuleOutcome(rule=rule)
    cutoff = _moment(today) - datetime.timedelta(
        hours=settings.REGISTRATION_CORRECTION_REMINDER_HOURS
    )
    qs = _streamed(
        Registration.objects.filter(
            status=RegistrationStatus.CORRECTION_REQUESTED,
            status_changed_at__lte=cutoff,
            status_changed_at__gt=cutoff - datetime.timedelta(days=CATCH_UP_DAYS + 1),
        )
    )
    batch = _Batch(outcome)
    for registration in qs.iterator(chunk_size=CHUNK):
        outcome.due += 1
        outcome.details.append(registration.reference)
        if dry_run:
            continue
        due = timezone.localtime(registration.status_changed_at).date()
        batch.add(
            resident_message_specs(
                registration=registration,
                template="correction_reminder",
                key=reminder_key(rule, registration, due),
            )
        )
    batch.flush()
    return outcome


def departure_passed(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Ask residents whose expected departure date passed whether they have left, once."""
    rule = "registration.departure_passed"
    outcome = RuleOutcome(rule=rule)
    qs = _active().filter(
        expected_departure__lt=today,
        expected_departure__gte=today - datetime.timedelta(days=CATCH_UP_DAYS + 1),
    )
    batch = _Batch(outcome)
    for registration in qs.iterator(chunk_size=CHUNK):
        outcome.due += 1
        outcome.details.append(registration.reference)
        if dry_run:
            continue
        batch.add(
            resident_message_specs(
                registration=registration,
                template="departure_check",
                key=reminder_key(rule, registration, registration.expected_departure),
                context={"expected_departure": registration.expected_departure.isoformat()},
            )
        )
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
