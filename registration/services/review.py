"""
Decisions of the station's staff on a registration: registered, correction, rejection.

``registration_decide`` is the admin's one entry point: it applies a ``Decision`` and
records it in the audit trail in the same transaction, so the trail holds only decisions
that took effect.
"""

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from privacy.constants import AuditAction
from privacy.services import audit_record
from registration.constants import AmendmentKind, Decision, ErrorCode, RegistrationStatus
from registration.models import Registration
from registration.services.notify import resident_notify
from registration.services.workflow import _amend, _history_user, _lock, _transition

logger = logging.getLogger(__name__)
S = RegistrationStatus


def _review(
    *, registration: Registration, actor, to_status: str, kind: str, template: str, message=""
) -> Registration:
    with transaction.atomic():
        registration = _lock(registration)
        before = _transition(registration, to_status)
        registration.decided_at = timezone.now()
        registration.decided_by = actor
        registration.staff_message = message
        _history_user(registration, actor)
        registration._change_reason = str(kind)
        registration.save()
        amendment = _amend(registration, kind, before=before, actor=actor, message=message)
        resident_notify(
            registration=registration,
            template=template,
            key=f"registration:{registration.pk}:{template}:{amendment.pk}",
        )
    logger.info(
        "Registration %s: %s → %s by user %s.", registration.pk, before, to_status, actor.pk
    )
    return registration


def _require_message(message: str) -> str:
    message = (message or "").strip()
    if not message:
        raise ValidationError(
            {"message": ValidationError(ErrorCode.MESSAGE_REQUIRED.label, code="message_required")}
        )
    return message


def registration_mark_registered(*, registration: Registration, actor) -> Registration:
    """Confirm the registration (staff) and tell the resident."""
    return _review(
        registration=registration,
        actor=actor,
        to_status=S.REGISTERED,
        kind=AmendmentKind.REGISTERED,
        template="registered",
    )


def registration_request_correction(
    *, registration: Registration, actor, message: str
) -> Registration:
    """Ask the resident to correct something (with ``message``) through their private link."""
    return _review(
        registration=registration,
        actor=actor,
        to_status=S.CORRECTION_REQUESTED,
        kind=AmendmentKind.CORRECTION_REQUESTED,
        template="correction_requested",
        message=_require_message(message),
    )


def registration_reject(*, registration: Registration, actor, message: str) -> Registration:
    """Refuse the registration with a reason the resident reads."""
    return _review(
        registration=registration,
        actor=actor,
        to_status=S.REJECTED,
        kind=AmendmentKind.REJECTED,
        template="rejected",
        message=_require_message(message),
    )


def registration_decide(
    *, registration: Registration, actor, decision: str, message: str = ""
) -> Registration:
    """
    Apply staff ``actor``'s ``decision`` (a ``Decision``; ``message`` for the resident with
    a correction request or a rejection) and record it in the audit trail.

    One transaction: the audit entry is written once the decision took effect, so a decision
    the status no longer allows, or one without its message, leaves no entry. Raise
    ValueError for an unknown decision, ValidationError for a refused one.
    """
    decision = Decision(decision)
    with transaction.atomic():
        match decision:
            case Decision.REGISTERED:
                registration = registration_mark_registered(registration=registration, actor=actor)
            case Decision.CORRECTION:
                registration = registration_request_correction(
                    registration=registration, actor=actor, message=message
                )
            case Decision.REJECT:
                registration = registration_reject(
                    registration=registration, actor=actor, message=message
                )
        audit_record(
            user=actor,
            action=AuditAction.DECISION,
            obj=registration,
            station=registration.station,
            detail=decision.value,
        )
    return registration


def registration_decide_many(
    *, registrations: Iterable[Registration], actor, decision: str, message: str = ""
) -> tuple[int, int]:
    """
    Apply ``decision`` to each of ``registrations`` (``registration_decide``), each in its
    own transaction so that one refusal undoes nothing of the others; return how many were
    decided and how many refused (their status does not allow the decision).
    """
    decided, refused = 0, 0
    for registration in registrations:
        try:
            registration_decide(
                registration=registration, actor=actor, decision=decision, message=message
            )
        except ValidationError:
            refused += 1
        else:
            decided += 1
    return decided, refused
