"""
Staff corrections and decisions at the counter: correct a field, end a stay, send a new
private link to the contact on file. Each writes the history (with the officer), an
amendment on the timeline, an audit entry and, where it concerns the resident, a message.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from privacy.constants import AuditAction
from privacy.services import audit_record
from registration.constants import AmendmentKind, EndReason, ErrorCode
from registration.models import Registration, Resident
from registration.selectors import document_number_index, visa_number_index
from registration.services.links import _link_pending_send
from registration.services.notify import resident_notify
from registration.services.submission import REGISTRATION_FIELDS
from registration.services.updates import registration_end
from registration.services.workflow import _amend, _history_user, _lock

logger = logging.getLogger(__name__)

# What staff may correct on the resident: the identity read from the documents. The
# contact stays the resident's own (their private link and lost-link form change it), so a
# new link can never be sent somewhere the resident did not give (docs/identity.md).
STAFF_RESIDENT_FIELDS = (
    "surname",
    "given_names",
    "chinese_name",
    "sex",
    "date_of_birth",
    "nationality",
    "document_type",
    "document_number",
    "document_expiry",
)
STAFF_REGISTRATION_FIELDS = REGISTRATION_FIELDS


def _not_erased(registration: Registration) -> None:
    if registration.anonymised_at is not None:
        raise ValidationError(ErrorCode.NOT_ACTIVE.label, code=ErrorCode.NOT_ACTIVE.value)


def registration_staff_correct(
    *, registration: Registration, actor, changes: dict, note: str = ""
) -> Registration:
    """
    Apply the corrections ``changes`` (field name → new value) that staff ``actor`` made to
    ``registration`` and its resident; return the registration.

    The blind indexes follow the numbers and the deadline follows the arrival, in the same
    transaction as the history (with ``actor`` and ``note``); the timeline and the audit
    trail name the corrected fields, never their values; the resident is told. Raise
    ValidationError for a field staff may not correct; nothing changed is a no-op.
    """
    unknown = set(changes) - set(STAFF_RESIDENT_FIELDS) - set(STAFF_REGISTRATION_FIELDS)
    if unknown:
        raise ValidationError(f"Not a correctable field: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        registration = _lock(registration)
        _not_erased(registration)
        resident = Resident.objects.select_for_update().get(pk=registration.resident_id)
        changed = []
        for field, value in changes.items():
            target = resident if field in STAFF_RESIDENT_FIELDS else registration
            if getattr(target, field) != value:
                setattr(target, field, value)
                changed.append(field)
        if not changed:
            return registration
        reason = f"corrected by staff: {', '.join(changed)}"
        if note:
            reason = f"{reason} ({note[:200]})"
        if any(field in STAFF_RESIDENT_FIELDS for field in changed):
            resident.document_number_index = document_number_index(resident.document_number)
            _history_user(resident, actor)
            resident._change_reason = reason
            resident.save()
        registration.visa_number_index = visa_number_index(registration.visa_number or "")
        registration.deadline_at = registration.arrival_at + datetime.timedelta(
            hours=settings.REGISTRATION_DEADLINE_HOURS
        )
        _history_user(registration, actor)
        registration._change_reason = reason
        registration.save()
        amendment = _amend(
            registration,
            AmendmentKind.STAFF_CORRECTED,
            before=registration.status,
            actor=actor,
            message=", ".join(changed),
        )
        audit_record(
            user=actor,
            action=AuditAction.DECISION,
            obj=registration,
            station=registration.station,
            detail=reason,
        )
        resident_notify(
            registration=registration,
            template="staff_corrected",
            key=f"registration:{registration.pk}:staff_corrected:{amendment.pk}",
        )
    logger.info("Registration %s corrected by user %s: %s.", registration.pk, actor.pk, changed)
    return registration


def registration_staff_end(*, registration: Registration, actor, message: str) -> Registration:
    """
    End ``registration`` for the reason staff ``actor`` gives in ``message`` (the resident
    reads it), with the history, the timeline, an audit entry and the message.
    """
    message = (message or "").strip()
    if not message:
        raise ValidationError(
            {"message": ValidationError(ErrorCode.MESSAGE_REQUIRED.label, code="message_required")}
        )
    with transaction.atomic():
        registration = registration_end(
            registration=registration,
            reason=EndReason.STAFF,
            actor=actor,
            message=message,
            notify=True,
        )
        audit_record(
            user=actor,
            action=AuditAction.DECISION,
            obj=registration,
            station=registration.station,
            detail="stay ended by staff",
        )
    logger.info("Registration %s ended by user %s.", registration.pk, actor.pk)
    return registration


def registration_staff_link_send(*, registration: Registration, actor) -> Registration:
    """
    Send a new private link to the contact on file of ``registration``, as the lost-link
    form does: the old link works until the new one is first opened. Staff never see the
    link; the audit trail records who sent it.
    """
    with transaction.atomic():
        registration = _lock(registration)
        _not_erased(registration)
        _link_pending_send(registration, actor=actor)
        audit_record(
            user=actor,
            action=AuditAction.MESSAGE,
            obj=registration,
            station=registration.station,
            detail="new private link sent to the contact on file",
        )
    return registration
