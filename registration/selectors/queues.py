"""
The staff's queues of registrations, as filters: the admin list's saved queues
(``?queue=``) and the dashboard's figures count the same definitions.
"""

import datetime

from django.db.models import Q
from django.utils import timezone

from registration.constants import (
    ACTIVE_STATUSES,
    VISA_EXPIRING_DAYS,
    WAITING_STATUSES,
    RegistrationQueue,
    RegistrationStatus,
)


def registrations_waiting() -> Q:
    """Return the filter of registrations waiting for a decision of the station's staff."""
    return Q(status__in=WAITING_STATUSES)


def registrations_overdue(*, now: datetime.datetime) -> Q:
    """Return the filter of registrations still waiting after their 24-hour deadline."""
    return Q(status__in=WAITING_STATUSES, deadline_at__lt=now)


def registrations_correction_requested() -> Q:
    """Return the filter of registrations waiting for the resident's correction."""
    return Q(status=RegistrationStatus.CORRECTION_REQUESTED)


def registrations_visa_expiring(*, today: datetime.date) -> Q:
    """
    Return the filter of active registrations whose visa or permit ends between ``today``
    and ``VISA_EXPIRING_DAYS`` later (the dashboard's figure and the admin's queue).
    """
    return Q(
        status__in=ACTIVE_STATUSES,
        visa_valid_until__gte=today,
        visa_valid_until__lte=today + datetime.timedelta(days=VISA_EXPIRING_DAYS),
    )


def registrations_decided_by(*, user) -> Q:
    """Return the filter of registrations ``user`` decided last."""
    return Q(decided_by=user)


def registrations_deletion_requested() -> Q:
    """Return the filter of registrations whose resident asked for deletion, not yet erased."""
    return Q(deletion_requested_at__isnull=False, anonymised_at__isnull=True)


def registration_queue(*, queue: str, user, now: datetime.datetime) -> Q:
    """Return the filter of the registrations in ``queue`` (a ``RegistrationQueue``)."""
    match RegistrationQueue(queue):
        case RegistrationQueue.WAITING:
            return registrations_waiting()
        case RegistrationQueue.OVERDUE:
            return registrations_overdue(now=now)
        case RegistrationQueue.CORRECTIONS:
            return registrations_correction_requested()
        case RegistrationQueue.EXPIRING:
            return registrations_visa_expiring(today=timezone.localdate(now))
        case RegistrationQueue.MINE:
            return registrations_decided_by(user=user)
