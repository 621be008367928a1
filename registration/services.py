"""
Writes of the registration app: submit, update, review and end registrations.

Every function is keyword-only and runs in one transaction; messages to the resident are
recorded in the notifications outbox in that same transaction and delivered after commit.
Status changes go through ``_transition``, which allows only ``constants.TRANSITIONS``.
"""

import datetime
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.db import retry_on_lost_connection
from core.images import image_sanitize
from core.references import reference_save
from core.tokens import token_hash, token_looks_valid, token_new
from notifications.services import MessageSpec, message_queue_many
from privacy.constants import AuditAction
from privacy.services import audit_record
from registration.constants import (
    ACTIVE_STATUSES,
    CONSENT_NOTICE_VERSION,
    TRANSITIONS,
    AmendmentKind,
    DocumentKind,
    EndReason,
    ErrorCode,
    RegistrationStatus,
)
from registration.documents import document_file_save
from registration.models import Amendment, Document, Registration, Resident, SubmissionAttempt
from registration.selectors import (
    document_number_index,
    registration_get_by_reference,
    resident_match_suggestions,
    resident_routes,
    resident_same_person_ids,
    visa_number_index,
)
from stations.selectors import user_is_member

logger = logging.getLogger(__name__)
S = RegistrationStatus

RESIDENT_FIELDS = (
    "surname",
    "given_names",
    "chinese_name",
    "sex",
    "date_of_birth",
    "nationality",
    "document_type",
    "document_number",
    "document_expiry",
    "phone",
    "email",
    "wechat_id",
    "preferred_language",
    "preferred_channel",
    "contact_consent",
)
CONTACT_FIELDS = (
    "phone",
    "email",
    "wechat_id",
    "preferred_language",
    "preferred_channel",
    "contact_consent",
)
REGISTRATION_FIELDS = (
    "visa_type",
    "visa_number",
    "visa_valid_until",
    "entry_date",
    "port_of_entry",
    "arrival_at",
    "expected_departure",
    "stay_reason",
    "school_or_employer",
    "address",
    "accommodation_type",
    "host_name",
    "host_phone",
)


class TransitionError(ValidationError):
    """A status change that ``constants.TRANSITIONS`` does not allow."""


@dataclass
class Submitted:
    """A new registration and the raw token of its private link (shown once, never stored)."""

    registration: Registration
    token: str


# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------
def reference_prefix(station) -> str:
    """Return the two letters of ``station``'s references (``SP`` in ``SP-7K3M-9Q2X``)."""
    letters = [ch for ch in station.code.upper() if ch.isalpha()]
    return "".join(letters[:2]).ljust(2, "X")


def private_link_url(token: str) -> str:
    """Return the absolute private link for ``token`` (SITE_URL, never the Host header)."""
    return settings.SITE_URL + reverse("registration:private", kwargs={"token": token})


def _history_user(obj, actor) -> None:
    if actor is not None and getattr(actor, "is_authenticated", False):
        obj._history_user = actor


def _amend(registration, kind, *, before="", actor=None, message="") -> Amendment:
    return Amendment.objects.create(
        registration=registration,
        kind=kind,
        status_before=before,
        status_after=registration.status,
        message=message,
        staff_user=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _transition(registration: Registration, to_status: str) -> str:
    """Move ``registration`` to ``to_status`` if allowed; return the previous status."""
    before = registration.status
    if to_status not in TRANSITIONS.get(before, ()):
        raise TransitionError(
            ErrorCode.TRANSITION_NOT_ALLOWED.label,
            code=ErrorCode.TRANSITION_NOT_ALLOWED.value,
            params={"from": before, "to": to_status},
        )
    registration.status = to_status
    registration.status_changed_at = timezone.now()
    return before


def _lock(registration: Registration) -> Registration:
    """Re-read ``registration`` under a row lock (two officers, two tabs)."""
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("resident", "station")
        .get(pk=registration.pk)
    )


def _require_active(registration: Registration) -> None:
    if registration.status not in ACTIVE_STATUSES:
        raise ValidationError(ErrorCode.NOT_ACTIVE.label, code=ErrorCode.NOT_ACTIVE.value)


def resident_message_specs(
    *,
    registration: Registration,
    template: str,
    key: str,
    context: dict | None = None,
    token: str | None = None,
    sms: bool | None = None,
) -> list[MessageSpec]:
    """
    Return the messages ``messages/registration/<template>`` to the resident, in their
    language, as specs (no query): email to the address on file, and an SMS too when the
    resident prefers SMS or has no email (``sms`` forces it on or off). Keys end with
    ``:<channel>``, so a message is never doubled whichever way it went.

    The address on file is the registration's own resident: contact details that came with
    this registration (or the one it follows through the private link), changed since only
    through that link or by staff. Never another record's, not even one staff confirmed as
    the same person (docs/identity.md).
    """
    resident = registration.resident
    context = {
        "reference": registration.reference,
        "status": registration.status,
        "staff_message": registration.staff_message,
        **(context or {}),
    }
    if token:
        context["secret_link"] = private_link_url(token)
    return [
        MessageSpec(
            template=f"registration/{template}",
            language=resident.preferred_language,
            channel=channel,
            to=to,
            context=context,
            idempotency_key=f"{key}:{channel}",
            station=registration.station,
            concerning=registration,
            recipient_name=resident.full_name,
        )
        for channel, to in resident_routes(resident, sms=sms)
    ]


def resident_notify(
    *,
    registration: Registration,
    template: str,
    key: str,
    context: dict | None = None,
    token: str | None = None,
    sms: bool | None = None,
) -> int:
    """
    Queue ``messages/registration/<template>`` to the resident, in their language; return
    how many messages were newly queued (a key already in the outbox is not queued again).
    """
    specs = resident_message_specs(
        registration=registration, template=template, key=key, context=context, token=token, sms=sms
    )
    return sum(message.newly_queued for message in message_queue_many(messages=specs))


# ------------------------------------------------------------------------------
# Submission attempts and photos
# ------------------------------------------------------------------------------
@retry_on_lost_connection
def attempt_start(*, station=None) -> tuple[str, SubmissionAttempt]:
    """Start a form attempt; return the raw key (for the session only) and the attempt."""
    raw, hashed = token_new()
    attempt = SubmissionAttempt.objects.create(key_hash=hashed, station=station)
    return raw, attempt


@retry_on_lost_connection(atomic=False)
def attempt_get(*, key: str | None) -> SubmissionAttempt | None:
    """Return the attempt of the raw session key ``key``, or ``None``."""
    if not key:
        return None
    return SubmissionAttempt.objects.filter(key_hash=token_hash(key)).first()


def attempt_photo_add(*, attempt: SubmissionAttempt, kind: str, uploaded_file) -> Document:
    """
    Sanitise ``uploaded_file`` and keep it with ``attempt`` as its photo of ``kind``,
    replacing an earlier one. Raise ValidationError (image codes) for a bad file.
    """
    if kind not in DocumentKind.values:
        raise ValueError(f"unknown document kind {kind!r}")
    clean = image_sanitize(uploaded_file)  # slow part, outside any transaction
    data = clean.read()
    name = document_file_save(content=data)
    try:
        return _attempt_photo_record(
            attempt=attempt,
            kind=kind,
            name=name,
            width=clean.image_width,
            height=clean.image_height,
            size=len(data),
        )
    except Exception:
        default_storage.delete(name)
        raise


@retry_on_lost_connection
def _attempt_photo_record(*, attempt, kind, name, width, height, size) -> Document:
    """Record the stored file ``name`` as ``attempt``'s photo of ``kind`` (one transaction)."""
    for old in attempt.documents.filter(kind=kind):
        old.delete()
    return Document.objects.create(
        attempt=attempt, kind=kind, file=name, width=width, height=height, size=size
    )


def attempts_delete_old(*, now: datetime.datetime | None = None) -> int:
    """Delete form attempts older than the configured age, with their photos."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.REGISTRATION_ATTEMPT_MAX_AGE_HOURS)
    count = 0
    for attempt in SubmissionAttempt.objects.filter(created_at__lt=cutoff).iterator():
        with transaction.atomic():
            attempt.delete()
        count += 1
    return count


def _adopt_photos(*, registration: Registration, attempt: SubmissionAttempt | None) -> int:
    if attempt is None:
        return 0
    adopted = attempt.documents.update(registration=registration, attempt=None)
    attempt.delete()
    return adopted


# ------------------------------------------------------------------------------
# Submitting
# ------------------------------------------------------------------------------
def _resident_create(*, data: dict) -> Resident:
    """
    Create the resident of a public submission from ``data``.

    Never an existing resident, even with the same document number: a public form cannot
    prove who is typing, so it cannot change what another record says or where its
    messages go (docs/identity.md). A match is a suggestion for staff
    (``selectors.resident_match_suggestions``).
    """
    resident = Resident(**{field: data[field] for field in RESIDENT_FIELDS if field in data})
    resident.document_number_index = document_number_index(resident.document_number)
    resident.save()
    return resident


def _registration_fill(registration: Registration, data: dict) -> None:
    for field in REGISTRATION_FIELDS:
        if field in data:
            setattr(registration, field, data[field])
    registration.visa_number_index = visa_number_index(registration.visa_number or "")
    registration.deadline_at = registration.arrival_at + datetime.timedelta(
        hours=settings.REGISTRATION_DEADLINE_HOURS
    )


def _registration_create(
    *,
    station,
    resident: Resident,
    data: dict,
    attempt: SubmissionAttempt | None,
    language: str,
    previous: Registration | None = None,
    token: str | None = None,
) -> Submitted:
    """
    Save a registration of ``resident`` with its photos and queue the confirmation with the
    private link: ``token`` keeps an existing link (a move), else a new one is made.
    """
    now = timezone.now()
    if token:
        raw_token, hashed = token, token_hash(token)
    else:
        raw_token, hashed = token_new()
    registration = Registration(
        resident=resident,
        station=station,
        status=S.SUBMITTED,
        status_changed_at=now,
        submitted_at=now,
        consent_notice_version=data.get("consent_notice_version", CONSENT_NOTICE_VERSION),
        consent_given_at=data.get("consent_given_at") or now,
        language=language,
        previous=previous,
        token_hash=hashed,
    )
    _registration_fill(registration, data)
    reference_save(registration, prefix=reference_prefix(station))
    _adopt_photos(registration=registration, attempt=attempt)
    amendment = _amend(
        registration,
        AmendmentKind.ADDRESS if previous else AmendmentKind.SUBMITTED,
    )
    resident_notify(
        registration=registration,
        template="confirmation",
        key=f"registration:{registration.pk}:confirmation:{amendment.pk}",
        token=raw_token,
        context={"late": registration.is_overdue},
    )
    return Submitted(registration=registration, token=raw_token)


def registration_submit(
    *,
    station,
    data: dict,
    attempt: SubmissionAttempt | None,
    language: str,
) -> Submitted:
    """
    Save a registration from the public form, with a new resident holding the identity and
    contact submitted with it, and queue the confirmation with a new private link.
    ``data`` is the cleaned form (resident and stay).
    """
    with transaction.atomic():
        resident = _resident_create(data=data)
        submitted = _registration_create(
            station=station, resident=resident, data=data, attempt=attempt, language=language
        )
    logger.info("Registration %s submitted.", submitted.registration.pk)
    return submitted


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
    or visa); the resident's private link ``token`` moves with them to the new registration.
    """
    with transaction.atomic():
        old = _lock(registration)
        _require_active(old)
        merged = {field: getattr(old, field) for field in REGISTRATION_FIELDS}
        merged.update(data)
        before = _transition(old, S.ENDED)
        old.end_reason = EndReason.MOVED
        old.ended_at = timezone.now()
        old.token_hash = None
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
        )
    logger.info("Registration %s submitted (moved).", submitted.registration.pk)
    return submitted


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


# ------------------------------------------------------------------------------
# Review by staff
# ------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------
# Identity: one person's records, as confirmed by staff
# ------------------------------------------------------------------------------
def resident_match_confirm(
    *, registration: Registration, other_resident: Resident, actor
) -> Resident:
    """
    Record that staff ``actor`` confirmed the resident of ``registration`` to be the same
    person as ``other_resident``, a suggestion they may see; return the resident.

    Only the link is written (with who and when, in the history and the audit trail): no
    field is copied between the records, so messages about each registration still go to
    its own contact details. Raise ValidationError if ``other_resident`` is no suggestion
    of ``registration`` for ``actor`` (another station's, another document, already linked).
    """
    with transaction.atomic():
        registration = _lock(registration)
        resident = Resident.objects.select_for_update().get(pk=registration.resident_id)
        registration.resident = resident  # the suggestions of the locked, current row
        suggested = {
            candidate.pk
            for candidate in resident_match_suggestions(registration=registration, user=actor)
        }
        if other_resident.pk not in suggested:
            raise ValidationError(
                ErrorCode.MATCH_NOT_SUGGESTED.label, code=ErrorCode.MATCH_NOT_SUGGESTED.value
            )
        other = Resident.objects.select_for_update().get(pk=other_resident.pk)
        person_id = other.person_id
        now = timezone.now()
        # The resident's whole group joins the other's: every member points at the same
        # first record, so a group stays one lookup (never a chain).
        group = Resident.objects.select_for_update().filter(
            pk__in=resident_same_person_ids(resident=resident)
        )
        for member in group:
            member.same_person_as_id = person_id
            member.same_person_confirmed_by = actor
            member.same_person_confirmed_at = now
            _history_user(member, actor)
            member._change_reason = "same person confirmed"
            member.save(
                update_fields=[
                    "same_person_as",
                    "same_person_confirmed_by",
                    "same_person_confirmed_at",
                    "updated_at",
                ]
            )
        audit_record(
            user=actor,
            action=AuditAction.DECISION,
            obj=registration,
            station=registration.station,
            detail=f"resident {registration.resident_id} confirmed the same person as "
            f"resident {other.pk}",
        )
    logger.info(
        "Registration %s: resident %s confirmed the same person as %s by user %s.",
        registration.pk,
        registration.resident_id,
        other.pk,
        actor.pk,
    )
    resident.refresh_from_db()
    return resident


# ------------------------------------------------------------------------------
# Lost link
# ------------------------------------------------------------------------------
def registration_link_resend(*, reference: str, document_number: str) -> bool:
    """
    Send a new private link to the registration's own contact on file if ``reference`` and
    ``document_number`` belong together; return whether they did (never shown to the
    visitor).

    The old link keeps working until the new one is first opened
    (``registration_link_claim``): knowing both details, a stranger can only make the
    resident receive a message, never lock them out or learn the link. A newer request
    replaces a link sent earlier and not yet opened.
    """
    registration = registration_get_by_reference(reference=reference)
    if registration is None:
        return False
    index = document_number_index(document_number)
    # The registration's own resident: a document number typed into a later public form
    # belongs to another resident and never matches here.
    if not index or not secrets.compare_digest(index, registration.resident.document_number_index):
        return False
    with transaction.atomic():
        registration = _lock(registration)
        raw, hashed = token_new()
        registration.pending_token_hash = hashed
        registration.save(update_fields=["pending_token_hash", "updated_at"])
        amendment = _amend(registration, AmendmentKind.LINK_RESENT, before=registration.status)
        resident_notify(
            registration=registration,
            template="link_resent",
            key=f"registration:{registration.pk}:link:{amendment.pk}",
            token=raw,
        )
    return True


def registration_link_claim(*, token: str) -> Registration | None:
    """
    Make ``token``, sent by the lost-link form, the private link of its registration the
    first time it is opened; the previous link stops working then. Return the registration,
    or ``None`` if ``token`` is no pending link.
    """
    if not token_looks_valid(token):
        return None
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update()
            .filter(pending_token_hash=token_hash(token), anonymised_at__isnull=True)
            .first()
        )
        if registration is None:
            return None
        registration.token_hash = registration.pending_token_hash
        registration.pending_token_hash = None
        registration.save(update_fields=["token_hash", "pending_token_hash", "updated_at"])
    logger.info("Registration %s: the link sent by the lost-link form was opened.", registration.pk)
    return registration


# ------------------------------------------------------------------------------
# Residents' rights and retention (PIPL arts. 19, 45, 47)
#
# Stations are walls for writes as for reads: an erasure touches only the registrations of
# the station that confirms it, and only those the resident asked to delete; a resident
# known to several stations keeps their identity until no station holds a registration
# of theirs that is not anonymised. Every station whose data changed gets its own audit
# entry. Locks are taken registration first, then resident, as everywhere else.
# ------------------------------------------------------------------------------
ERASED_ON_REQUEST = "personal data erased at the resident's request"
ERASED_BY_RETENTION = "personal data erased by the retention rule"
RESIDENT_ANONYMISED = (
    "resident's identity and contact erased: no station holds a registration that needs them"
)
LINK_CHAIN_LIMIT = 50


def _registrations_of_link(registration: Registration) -> list[Registration]:
    """
    Return ``registration`` and the earlier registrations its private link reaches (the
    ``previous`` chain of a move, as in the resident's copy of their data), same resident only.
    """
    chain = [registration]
    current = registration
    while current.previous_id is not None and len(chain) < LINK_CHAIN_LIMIT:
        current = Registration.objects.filter(pk=current.previous_id).first()
        if current is None or current.resident_id != registration.resident_id:
            break
        chain.append(current)
    return chain


def registration_deletion_request(*, registration: Registration) -> Registration:
    """
    Record the resident's request to delete their data; staff of each station confirm it.

    The request covers every registration the private link reaches (a move from station A
    to B keeps A's registration behind B's link): each lands in its own station's
    "deletion requested" queue, and only that station's staff erase it.
    """
    now = timezone.now()
    with transaction.atomic():
        registration = _lock(registration)
        for item in _registrations_of_link(registration):
            item = registration if item.pk == registration.pk else _lock(item)
            if item.deletion_requested_at is None and item.anonymised_at is None:
                item.deletion_requested_at = now
                item.save(update_fields=["deletion_requested_at", "updated_at"])
                _amend(item, AmendmentKind.DELETION_REQUESTED, before=item.status)
    return registration


def _registration_anonymise(registration: Registration, now) -> int:
    """Erase the personal data of one registration (photos too); return files removed."""
    files = 0
    for document in registration.documents.all():
        document.delete()  # its file goes once the transaction commits
        files += 1
    registration.visa_number = ""
    registration.visa_number_index = ""
    registration.port_of_entry = ""
    registration.school_or_employer = ""
    registration.address = ""
    registration.host_name = ""
    registration.host_phone = ""
    registration.staff_message = ""
    registration.token_hash = None
    registration.anonymised_at = now
    registration.skip_history_when_saving = True
    registration.save()
    registration.amendments.update(message="")
    # The history holds earlier copies of the same data.
    Registration.history.filter(id=registration.pk).delete()
    return files


def _resident_anonymise(resident: Resident, now) -> None:
    """Erase a resident's identity and contact; keep nationality, sex, year of birth."""
    resident.surname = ""
    resident.given_names = ""
    resident.chinese_name = ""
    resident.date_of_birth = resident.date_of_birth.replace(month=1, day=1)
    resident.document_number = ""
    resident.document_number_index = ""
    resident.phone = ""
    resident.email = ""
    resident.wechat_id = ""
    resident.contact_consent = False
    resident.anonymised_at = now
    resident.skip_history_when_saving = True
    resident.save()
    Resident.history.filter(id=resident.pk).delete()


def _resident_anonymise_if_done(resident_id: int, now, *, actor=None) -> bool:
    """
    Anonymise the resident once no station holds a registration of theirs that still keeps
    personal data; tell every station that holds them (one audit entry each).
    """
    # Locked before the check: two stations erasing their last registrations at once
    # take turns here, and the second sees the first's registration anonymised.
    resident = Resident.objects.select_for_update().get(pk=resident_id)
    if resident.anonymised_at is not None:
        return True
    if Registration.objects.filter(resident_id=resident_id, anonymised_at__isnull=True).exists():
        return False
    _resident_anonymise(resident, now)
    latest_by_station = {}
    for item in (
        Registration.objects.filter(resident_id=resident_id)
        .select_related("station")
        .order_by("station_id", "-pk")
    ):
        latest_by_station.setdefault(item.station_id, item)
    for item in latest_by_station.values():
        audit_record(
            user=actor,
            action=AuditAction.ERASE,
            obj=item,
            station=item.station,
            detail=RESIDENT_ANONYMISED,
        )
    return True


def registration_anonymise(*, registration: Registration) -> int:
    """Anonymise one ended or rejected registration (retention); return files removed."""
    now = timezone.now()
    with transaction.atomic():
        registration = _lock(registration)
        if registration.anonymised_at is not None:
            return 0
        if registration.status in ACTIVE_STATUSES:
            raise ValidationError(ErrorCode.ERASE_ACTIVE.label, code=ErrorCode.ERASE_ACTIVE.value)
        files = _registration_anonymise(registration, now)
        audit_record(
            user=None,
            action=AuditAction.ERASE,
            obj=registration,
            station=registration.station,
            detail=ERASED_BY_RETENTION,
        )
        _resident_anonymise_if_done(registration.resident_id, now)
    return files


def resident_erase(*, registration: Registration, actor) -> int:
    """
    Erase, at the resident's request and confirmed by staff of ``registration``'s station,
    the resident's ended or rejected registrations at that station that the resident asked
    to delete; then the resident, once no station holds a registration that needs them.

    Refused without a deletion request (``ERASE_NOT_REQUESTED``: only the resident or a
    retention rule starts an erasure) and for an active registration (``ERASE_ACTIVE``: the
    law requires keeping it; end it first). Another station's registrations are never
    touched, even of the same resident. Return how many registrations were erased.
    """
    now = timezone.now()
    with transaction.atomic():
        registration = _lock(registration)
        if not user_is_member(actor, registration.station):
            raise PermissionDenied
        if registration.anonymised_at is not None:
            return 0
        if registration.deletion_requested_at is None:
            raise ValidationError(
                ErrorCode.ERASE_NOT_REQUESTED.label, code=ErrorCode.ERASE_NOT_REQUESTED.value
            )
        if registration.status in ACTIVE_STATUSES:
            raise ValidationError(ErrorCode.ERASE_ACTIVE.label, code=ErrorCode.ERASE_ACTIVE.value)
        erasable = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("station")
            .filter(
                resident_id=registration.resident_id,
                station_id=registration.station_id,
                anonymised_at__isnull=True,
                deletion_requested_at__isnull=False,
                status__in=(S.ENDED, S.REJECTED),
            )
            .order_by("pk")
        )
        count = 0
        for item in erasable:
            _amend(item, AmendmentKind.ERASED, before=item.status, actor=actor)
            _registration_anonymise(item, now)
            audit_record(
                user=actor,
                action=AuditAction.ERASE,
                obj=item,
                station=item.station,
                detail=ERASED_ON_REQUEST,
            )
            count += 1
        _resident_anonymise_if_done(registration.resident_id, now, actor=actor)
    return count
