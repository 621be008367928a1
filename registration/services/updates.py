"""
Updates of a registration through the resident's private link: a new address, a correction,
a renewed visa, a new travel document, contact details, departure; and its end.

Changes staff must confirm send a registered registration back to the queue.
"""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registration.constants import (
    AmendmentKind,
    DocumentKind,
    EndReason,
    ErrorCode,
    RegistrationStatus,
)
from registration.models import Registration, Resident, SubmissionAttempt
from registration.selectors import document_number_index, visa_number_index
from registration.services.attempts import _adopt_photos
from registration.services.notify import resident_notify
from registration.services.submission import (
    REGISTRATION_FIELDS,
    RESIDENT_FIELDS,
    Submitted,
    _registration_create,
    _registration_fill,
)
from registration.services.workflow import (
    _amend,
    _history_user,
    _lock,
    _require_active,
    _transition,
)

logger = logging.getLogger(__name__)
S = RegistrationStatus
D = DocumentKind

# The documents still valid at a new address: same passport, same visa, same entry.
MOVE_CARRIED = (D.PASSPORT_PAGE.value, D.VISA_PAGE.value, D.ENTRY_STAMP.value)
VISA_FIELDS = ("visa_type", "visa_number", "visa_valid_until")

CONTACT_FIELDS = (
    "phone",
    "email",
    "wechat_id",
    "preferred_language",
    "preferred_channel",
    "contact_consent",
)


def registration_move(
    *,
    registration: Registration,
    data: dict,
    attempt: SubmissionAttempt | None,
    language: str,
    token: str,
) -> Submitted:
    """
    Register a new address: a new registration of the same resident, pre-filled from the
    old one, which ends as "moved". ``data`` holds the new stay (and may change the station
    or visa); the resident's private link ``token`` moves with them to the new registration,
    and the photos still valid (passport, visa unless it changed, entry) come along.
    """
    return _registration_follow(
        registration=registration,
        data=data,
        attempt=attempt,
        language=language,
        token=token,
        end_reason=EndReason.MOVED,
        kind=AmendmentKind.ADDRESS,
        carry=MOVE_CARRIED,
    )


def registration_reenter(
    *,
    registration: Registration,
    data: dict,
    attempt: SubmissionAttempt | None,
    language: str,
    token: str | None,
) -> Submitted:
    """
    Register the resident again at the same address after a trip abroad: a new
    registration following ``registration`` (which ends), with the new entry in ``data``
    (and the visa, if it changed). The entry stamp is always new; the passport page, the
    lease and the visa page (unless the visa changed) carry over. The private link ``token``
    moves to the new registration; staff see it in the queue as a re-entry.

    ``token`` is ``None`` when the resident acts through their bound WeChat (a photo of the
    entry stamp sent to the official account) rather than the link: the link they hold
    moves all the same (its hash; the raw link is never stored), and the confirmation
    carries no link.
    """
    return _registration_follow(
        registration=registration,
        data=data,
        attempt=attempt,
        language=language,
        token=token,
        end_reason=EndReason.REENTERED,
        kind=AmendmentKind.REENTRY,
        carry=(D.PASSPORT_PAGE.value, D.LEASE.value, D.VISA_PAGE.value),
    )


def _registration_follow(
    *, registration, data, attempt, language, token, end_reason, kind, carry
) -> Submitted:
    with transaction.atomic():
        old = _lock(registration)
        _require_active(old)
        merged = {field: getattr(old, field) for field in REGISTRATION_FIELDS}
        merged.update(data)
        if any(merged[field] != getattr(old, field) for field in VISA_FIELDS):
            carry = tuple(k for k in carry if k != D.VISA_PAGE)
        before = _transition(old, S.ENDED)
        old.end_reason = end_reason
        old.ended_at = timezone.now()
        # The link moves on by its hash: ``token`` may be a session's alias or None (WeChat).
        kept_hash, old.token_hash = old.token_hash, None
        # A lost-link message not yet opened must not open the ended registration later.
        old.pending_token_hash = None
        old.save()
        _amend(old, AmendmentKind.ENDED, before=before)
        submitted = _registration_create(
            station=merged.get("station") or old.station,
            resident=old.resident,
            data=merged,
            attempt=attempt,
            language=language,
            previous=old,
            token=token,
            token_hash_kept=kept_hash,
            kind=kind,
            carry=carry,
        )
    logger.info("Registration %s submitted (%s).", submitted.registration.pk, kind)
    return submitted


def registration_departure_extend(
    *, registration: Registration, expected_departure: datetime.date
) -> Registration:
    """
    Record a later expected departure ("I'm staying longer"), within the visa's validity.

    No review: the date is the resident's own forecast, and the one limit the law sets on
    it (the visa's validity, which staff already checked) is checked here; the change is an
    amendment in the history, like a change of contact details.
    """
    with transaction.atomic():
        registration = _lock(registration)
        _require_active(registration)
        if expected_departure > registration.visa_valid_until:
            raise ValidationError(
                {
                    "expected_departure": ValidationError(
                        ErrorCode.DEPARTURE_AFTER_VISA.label,
                        code=ErrorCode.DEPARTURE_AFTER_VISA.value,
                    )
                }
            )
        registration.expected_departure = expected_departure
        registration.save()
        _amend(registration, AmendmentKind.DEPARTURE, before=registration.status)
    return registration


def registration_correct(
    *, registration: Registration, data: dict, attempt: SubmissionAttempt | None
) -> Registration:
    """
    Save the resident's answer to a correction request (through their private link, so
    their own resident may change) and send it back to staff.
    """
    with transaction.atomic():
        registration = _lock(registration)
        before = _transition(registration, S.RESUBMITTED)
        resident = Resident.objects.select_for_update().get(pk=registration.resident_id)
        for field in RESIDENT_FIELDS:
            if field in data:
                setattr(resident, field, data[field])
        resident.document_number_index = document_number_index(resident.document_number)
        resident.save()
        _registration_fill(registration, data)
        registration.save()
        _adopt_photos(registration=registration, attempt=attempt)
        _amend(registration, AmendmentKind.RESUBMITTED, before=before)
    return registration


def _back_to_queue(registration: Registration) -> str:
    """After a change staff must confirm: registered or correction → resubmitted."""
    before = registration.status
    if before in (S.REGISTERED, S.CORRECTION_REQUESTED):
        _transition(registration, S.RESUBMITTED)
    return before


def registration_visa_renew(
    *,
    registration: Registration,
    visa_type: str,
    visa_number: str,
    visa_valid_until: datetime.date,
    attempt: SubmissionAttempt | None,
) -> Registration:
    """Record a renewed visa or permit (new photo); staff confirm it."""
    with transaction.atomic():
        registration = _lock(registration)
        _require_active(registration)
        if visa_valid_until <= registration.visa_valid_until:
            raise ValidationError(
                {
                    "visa_valid_until": ValidationError(
                        ErrorCode.VALID_UNTIL_NOT_LATER.label,
                        code=ErrorCode.VALID_UNTIL_NOT_LATER.value,
                    )
                }
            )
        before = _back_to_queue(registration)
        registration.visa_type = visa_type
        registration.visa_number = visa_number
        registration.visa_number_index = visa_number_index(visa_number)
        registration.visa_valid_until = visa_valid_until
        registration.save()
        _adopt_photos(registration=registration, attempt=attempt)
        _amend(registration, AmendmentKind.VISA, before=before)
    return registration


def resident_travel_document_update(
    *,
    registration: Registration,
    document_type: str,
    document_number: str,
    document_expiry: datetime.date,
    attempt: SubmissionAttempt | None,
) -> Registration:
    """Record a new travel document (new photo of its information page); staff confirm it."""
    with transaction.atomic():
        registration = _lock(registration)
        _require_active(registration)
        resident = Resident.objects.select_for_update().get(pk=registration.resident_id)
        resident.document_type = document_type
        resident.document_number = document_number
        resident.document_number_index = document_number_index(document_number)
        resident.document_expiry = document_expiry
        resident.save()
        before = _back_to_queue(registration)
        registration.save()
        _adopt_photos(registration=registration, attempt=attempt)
        _amend(registration, AmendmentKind.TRAVEL_DOCUMENT, before=before)
    return registration


def resident_contact_update(*, registration: Registration, data: dict) -> Resident:
    """
    Change how the resident of ``registration`` is reached (through its private link); no
    confirmation by staff needed.
    """
    with transaction.atomic():
        registration = _lock(registration)
        _require_active(registration)
        resident = Resident.objects.select_for_update().get(pk=registration.resident_id)
        for field in CONTACT_FIELDS:
            if field in data:
                setattr(resident, field, data[field])
        resident.save()
        _amend(registration, AmendmentKind.CONTACT, before=registration.status)
    return resident


def registration_depart(*, registration: Registration, departed_on: datetime.date) -> Registration:
    """End the registration because the resident left on ``departed_on``."""
    today = timezone.localdate()
    if departed_on > today:
        raise ValidationError(
            {
                "departed_on": ValidationError(
                    ErrorCode.DEPARTURE_FUTURE.label, code="departure_future"
                )
            }
        )
    if departed_on < timezone.localtime(registration.arrival_at).date():
        raise ValidationError(
            {
                "departed_on": ValidationError(
                    ErrorCode.DEPARTURE_BEFORE_STAY.label, code="departure_before_stay"
                )
            }
        )
    return registration_end(
        registration=registration, reason=EndReason.DEPARTED, departed_on=departed_on
    )


def registration_end(
    *,
    registration: Registration,
    reason: str,
    actor=None,
    departed_on: datetime.date | None = None,
    message: str = "",
    notify: bool = False,
) -> Registration:
    """End an active registration for ``reason``; optionally tell the resident."""
    with transaction.atomic():
        registration = _lock(registration)
        before = _transition(registration, S.ENDED)
        registration.end_reason = reason
        registration.ended_at = timezone.now()
        registration.departed_on = departed_on
        if message:
            registration.staff_message = message
        _history_user(registration, actor)
        registration.save()
        amendment = _amend(
            registration,
            AmendmentKind.DEPARTED if reason == EndReason.DEPARTED else AmendmentKind.ENDED,
            before=before,
            actor=actor,
            message=message,
        )
        if notify:
            resident_notify(
                registration=registration,
                template="ended_visa_expired" if reason == EndReason.VISA_EXPIRED else "ended",
                key=f"registration:{registration.pk}:ended:{amendment.pk}",
                context={"end_reason": reason},
            )
    return registration
