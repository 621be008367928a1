"""
Staff alert rules of the inquiries app, run every 15 minutes (``STAFF_ALERT_RULES``) by
``notifications.reminders.reminders_run``.

``inquiries_overdue``: a case past its first-response target with no reply yet → an email
to each manager of its station (once per case, manager and due date).
``inquiries_unassigned``: a new case nobody has taken → each officer of its station (once
per case and officer), and once more if still nobody's after
``INQUIRY_UNASSIGNED_ALERT_HOURS``. Staff without an email address get their alerts in the
staff workspace (``notifications.services.staff_message_spec``).
"""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from inquiries.constants import Status, Urgency
from inquiries.models import Inquiry
from notifications.reminders import RuleOutcome, reminder_key
from notifications.services import MessageSpec, message_queue_many, staff_message_spec
from stations.constants import MembershipRole
from stations.selectors import station_staff

RULE = "inquiries_overdue"
BATCH_SIZE = 500


def _cut_off(today: datetime.date) -> datetime.datetime:
    """Now when run for today; otherwise the end of ``today`` (local time)."""
    now = timezone.now()
    if today == timezone.localdate(now):
        return now
    start = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(start)


def _managers_by_station(station_ids) -> dict[int, list]:
    managers: dict[int, list] = {}
    for membership in station_staff(station_ids=station_ids, role=MembershipRole.MANAGER):
        managers.setdefault(membership.station_id, []).append(membership.user)
    return managers


def inquiries_overdue(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Email the station's managers about each case past its first-response target."""
    outcome = RuleOutcome(rule=RULE)
    language = settings.INQUIRY_STAFF_MESSAGE_LANGUAGE
    cases = (
        Inquiry.objects.overdue(now=_cut_off(today))
        .select_related("station")
        .prefetch_related("station__texts")
        .order_by("first_response_due", "pk")
    )
    batch: list[Inquiry] = []

    def flush():
        managers = _managers_by_station({case.station_id for case in batch})
        specs: list[MessageSpec] = []
        for case in batch:
            due_date = timezone.localdate(case.first_response_due)
            with translation.override(language):
                context = {
                    "reference": case.reference,
                    "subject": case.subject,
                    "urgency": str(Urgency(case.urgency).label),
                    "status": str(Status(case.status).label),
                    "due": case.first_response_due.isoformat(),
                    "admin_url": settings.SITE_URL
                    + reverse("admin:inquiries_inquiry_change", args=[case.pk]),
                }
            for manager in managers.get(case.station_id, []):
                outcome.due += 1
                label = f"{case.reference} → {manager.email or manager.get_username()}"
                if dry_run:
                    outcome.details.append(label)
                    continue
                specs.append(
                    staff_message_spec(
                        user=manager,
                        template="inquiries/overdue",
                        language=language,
                        context=context,
                        key=reminder_key(RULE, case, due_date) + f":{manager.pk}",
                        station=case.station,
                        concerning=case,
                    )
                )
        # One chunk of messages: a few queries and one broker call, not one per message.
        outcome.queued += sum(
            message.newly_queued for message in message_queue_many(messages=specs)
        )
        batch.clear()

    for case in cases.iterator(chunk_size=BATCH_SIZE):
        batch.append(case)
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return outcome


UNASSIGNED_RULE = "inquiries_unassigned"
# How far back the rule looks: a missed run is caught up, a months-old case is not news.
UNASSIGNED_LOOK_BACK = datetime.timedelta(days=3)


def _officers_by_station(station_ids) -> dict[int, list]:
    """Return the officers of each station (a station without officers: its managers)."""
    officers: dict[int, list] = {}
    managers: dict[int, list] = {}
    for membership in station_staff(station_ids=station_ids):
        into = officers if membership.role == MembershipRole.OFFICER else managers
        into.setdefault(membership.station_id, []).append(membership.user)
    return {pk: officers.get(pk) or managers.get(pk, []) for pk in station_ids}


def inquiries_unassigned(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """Tell the station's officers of each new case nobody has taken, and again hours later."""
    outcome = RuleOutcome(rule=UNASSIGNED_RULE)
    now = _cut_off(today)
    cases = (
        Inquiry.objects.filter(
            status__in=(Status.NEW, Status.REOPENED),
            assigned_to__isnull=True,
            created_at__lte=now,
            created_at__gt=now - UNASSIGNED_LOOK_BACK,
        )
        .select_related("station")
        .order_by("created_at", "pk")
    )
    batch: list[Inquiry] = []
    for case in cases.iterator(chunk_size=BATCH_SIZE):
        batch.append(case)
        if len(batch) >= BATCH_SIZE:
            _unassigned_alert(batch, now=now, dry_run=dry_run, outcome=outcome)
            batch = []
    if batch:
        _unassigned_alert(batch, now=now, dry_run=dry_run, outcome=outcome)
    return outcome


def _unassigned_alert(cases, *, now, dry_run: bool, outcome: RuleOutcome) -> None:
    """Queue the alerts of one chunk of unassigned ``cases``: a few queries, one broker call."""
    again = now - datetime.timedelta(hours=settings.INQUIRY_UNASSIGNED_ALERT_HOURS)
    language = settings.INQUIRY_STAFF_MESSAGE_LANGUAGE
    officers = _officers_by_station({case.station_id for case in cases})
    specs: list[MessageSpec] = []
    for case in cases:
        stage = "again" if case.created_at <= again else "new"
        with translation.override(language):
            context = {
                "reference": case.reference,
                "subject": case.subject,
                "urgency": str(Urgency(case.urgency).label),
                "received": case.created_at.isoformat(),
                "again": stage == "again",
                "hours": settings.INQUIRY_UNASSIGNED_ALERT_HOURS,
                "admin_url": settings.SITE_URL
                + reverse("admin:inquiries_inquiry_change", args=[case.pk]),
            }
        for user in officers.get(case.station_id, []):
            outcome.due += 1
            if dry_run:
                outcome.details.append(f"{case.reference} → {user.get_username()} ({stage})")
                continue
            key = reminder_key(f"{UNASSIGNED_RULE}.{stage}", case, case.created_at.date())
            specs.append(
                staff_message_spec(
                    user=user,
                    template="inquiries/unassigned",
                    language=language,
                    context=context,
                    key=f"{key}:{user.pk}",
                    station=case.station,
                    concerning=case,
                )
            )
    outcome.queued += sum(m.newly_queued for m in message_queue_many(messages=specs))


def inquiry_new_alert(*, inquiry: Inquiry) -> int:
    """
    Alert the officers of ``inquiry``'s station of it now, as it is recorded (inside its
    transaction), rather than at the next 15-minute run; the run's key is the same, so it
    queues nothing twice. Return how many alerts were queued.
    """
    outcome = RuleOutcome(rule=UNASSIGNED_RULE)
    _unassigned_alert([inquiry], now=timezone.now(), dry_run=False, outcome=outcome)
    return outcome.queued
