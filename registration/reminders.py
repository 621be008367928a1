"""
Reminder rules of the registration app, run daily by ``notifications.reminders``.

Each rule is ``rule(*, today, dry_run) -> RuleOutcome``: one set-based query over indexed
columns (status + a date), streamed in chunks, and for each row a message queued with
``reminder_key(rule, registration, due)`` so that running a rule twice queues nothing new.
A missed day is caught up: windows look back a few days, keys keep one reminder per due date.
"""

import datetime
import logging

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from notifications.constants import Channel
from notifications.models import Message
from notifications.reminders import RuleOutcome, reminder_key
from notifications.services import message_queue
from registration.constants import ACTIVE_STATUSES, EndReason, RegistrationStatus
from registration.models import Registration
from registration.services import registration_end, resident_notify

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


def _active():
    return Registration.objects.filter(status__in=ACTIVE_STATUSES).select_related(
        "resident", "station"
    )


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
        outcome.queued += resident_notify(
            registration=registration,
            template="visa_expiring",
            key=reminder_key(f"{rule}.{threshold}", registration, due),
            context={
                "days": left,
                "valid_until": registration.visa_valid_until.isoformat(),
            },
        )
    return outcome


def visa_expired(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """End registrations whose visa or permit expired without an update; tell the resident."""
    rule = "registration.visa_expired"
    outcome = RuleOutcome(rule=rule)
    ids = (
        Registration.objects.filter(status__in=ACTIVE_STATUSES, visa_valid_until__lt=today)
        .values_list("pk", "reference")
        .iterator(chunk_size=CHUNK)
    )
    for pk, reference in ids:
        outcome.due += 1
        outcome.details.append(reference)
        if dry_run:
            continue
        registration = Registration(pk=pk)
        try:
            registration_end(registration=registration, reason=EndReason.VISA_EXPIRED, notify=True)
        except Exception:  # one bad row must not stop the others
            logger.exception("Could not end registration %s after visa expiry.", pk)
            continue
        outcome.queued += 1
    return outcome


def correction_unanswered(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Remind residents of a correction request unanswered for 48 hours (setting), once."""
    rule = "registration.correction_unanswered"
    outcome = RuleOutcome(rule=rule)
    cutoff = _moment(today) - datetime.timedelta(
        hours=settings.REGISTRATION_CORRECTION_REMINDER_HOURS
    )
    qs = Registration.objects.filter(
        status=RegistrationStatus.CORRECTION_REQUESTED,
        status_changed_at__lte=cutoff,
        status_changed_at__gt=cutoff - datetime.timedelta(days=CATCH_UP_DAYS + 1),
    ).select_related("resident", "station")
    for registration in qs.iterator(chunk_size=CHUNK):
        outcome.due += 1
        outcome.details.append(registration.reference)
        if dry_run:
            continue
        due = timezone.localtime(registration.status_changed_at).date()
        outcome.queued += resident_notify(
            registration=registration,
            template="correction_reminder",
            key=reminder_key(rule, registration, due),
        )
    return outcome


def departure_passed(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Ask residents whose expected departure date passed whether they have left, once."""
    rule = "registration.departure_passed"
    outcome = RuleOutcome(rule=rule)
    qs = _active().filter(
        expected_departure__lt=today,
        expected_departure__gte=today - datetime.timedelta(days=CATCH_UP_DAYS + 1),
    )
    for registration in qs.iterator(chunk_size=CHUNK):
        outcome.due += 1
        outcome.details.append(registration.reference)
        if dry_run:
            continue
        outcome.queued += resident_notify(
            registration=registration,
            template="departure_check",
            key=reminder_key(rule, registration, registration.expected_departure),
            context={"expected_departure": registration.expected_departure.isoformat()},
        )
    return outcome


def staff_waiting(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Email the station's officers about submissions still waiting 12 h after arrival."""
    from stations.constants import MembershipRole
    from stations.models import StationMembership

    rule = "registration.staff_waiting"
    outcome = RuleOutcome(rule=rule)
    hours = settings.REGISTRATION_STAFF_REMINDER_HOURS
    moment = _moment(today)
    cutoff = moment - datetime.timedelta(hours=hours)
    qs = (
        Registration.objects.filter(
            status=RegistrationStatus.SUBMITTED,
            arrival_at__lte=cutoff,
            arrival_at__gt=cutoff - datetime.timedelta(days=CATCH_UP_DAYS + 1),
        )
        .select_related("station")
        .order_by("station_id", "pk")
    )
    officers: dict[int, list] = {}
    language = settings.REGISTRATION_STAFF_LANGUAGE
    for registration in qs.iterator(chunk_size=CHUNK):
        station_id = registration.station_id
        if station_id not in officers:
            memberships = StationMembership.objects.filter(
                station_id=station_id, user__is_active=True
            ).select_related("user")
            users = [m.user for m in memberships if m.role == MembershipRole.OFFICER]
            users = users or [m.user for m in memberships]  # no officer: the managers
            officers[station_id] = [u for u in users if u.email]
        outcome.due += 1
        outcome.details.append(registration.reference)
        if dry_run:
            continue
        admin_url = settings.SITE_URL + reverse(
            "admin:registration_registration_change", args=[registration.pk]
        )
        for user in officers[station_id]:
            key = reminder_key(
                f"{rule}.{user.pk}",
                registration,
                timezone.localtime(registration.arrival_at).date(),
            )
            if Message.objects.filter(idempotency_key=key).exists():
                continue
            message_queue(
                template="registration/staff_waiting",
                language=language,
                channel=Channel.EMAIL,
                to=user.email,
                recipient_name=user.get_full_name() or user.get_username(),
                context={
                    "reference": registration.reference,
                    "hours": hours,
                    "deadline": date_format(
                        timezone.localtime(registration.deadline_at), "SHORT_DATETIME_FORMAT"
                    ),
                    "admin_url": admin_url,
                },
                idempotency_key=key,
                station=registration.station,
                concerning=registration,
            )
            outcome.queued += 1
    return outcome
