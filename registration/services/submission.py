"""
Submitting a registration from the public form: a new resident, a new registration, its
photos, and the confirmation with a new private link.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.references import reference_save
from core.tokens import token_hash, token_new
from privacy.constants import AuditAction
from privacy.services import audit_record
from registration.constants import (
    CONSENT_NOTICE_VERSION,
    AmendmentKind,
    RegistrationSource,
    RegistrationStatus,
)
from registration.models import Registration, Resident, SubmissionAttempt
from registration.selectors import document_number_index, visa_number_index
from registration.services.attempts import _adopt_photos, _documents_carry
from registration.services.notify import resident_notify
from registration.services.workflow import _amend

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


@dataclass
class Submitted:
    """
    A new registration and the raw token of its private link (shown once, never stored);
    ``None`` when the resident's link moved by its hash (a re-entry sent from WeChat, an
    update through a session's access).
    """

    registration: Registration
    token: str | None


def reference_prefix(station) -> str:
    """Return the two letters of ``station``'s references (``SP`` in ``SP-7K3M-9Q2X``)."""
    letters = [ch for ch in station.code.upper() if ch.isalpha()]
    return "".join(letters[:2]).ljust(2, "X")


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
    token_hash_kept: str | None = None,
    kind: str | None = None,
    carry: tuple[str, ...] = (),
    source: str = RegistrationSource.FORM,
    recorded_by=None,
) -> Submitted:
    """
    Save a registration of ``resident`` with its photos and queue the confirmation with the
    private link: ``token_hash_kept`` keeps an existing link by its hash (a move; the
    confirmation carries the raw ``token`` only when it is that link, not a session's alias
    nor nothing, docs/identity.md), ``token`` alone makes that the link; else a new one is
    made. The photos of ``carry`` kinds not sent again are carried over from ``previous``.
    """
    now = timezone.now()
    if token_hash_kept:
        raw_token = token if token and token_hash(token) == token_hash_kept else None
        hashed = token_hash_kept
    elif token:
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
        source=source,
        consent_recorded_by=recorded_by,
    )
    _registration_fill(registration, data)
    reference_save(registration, prefix=reference_prefix(station))
    _adopt_photos(registration=registration, attempt=attempt)
    if previous is not None and carry:
        _documents_carry(source=previous, target=registration, kinds=carry)
    amendment = _amend(
        registration,
        kind or (AmendmentKind.ADDRESS if previous else AmendmentKind.SUBMITTED),
        actor=recorded_by,
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
    source: str = RegistrationSource.FORM,
    actor=None,
) -> Submitted:
    """
    Save a registration from the public form, with a new resident holding the identity and
    contact submitted with it, and queue the confirmation with a new private link.
    ``data`` is the cleaned form (resident and stay).

    At the counter (``source`` ``counter``, 窗口现场登记) staff ``actor`` fills in the same
    form with the resident: the registration records who took the resident's consent, and
    the audit trail who registered whom.
    """
    counter = source == RegistrationSource.COUNTER
    if counter and actor is None:
        raise ValueError("A counter registration needs the staff member who recorded it.")
    with transaction.atomic():
        resident = _resident_create(data=data)
        submitted = _registration_create(
            station=station,
            resident=resident,
            data=data,
            attempt=attempt,
            language=language,
            source=source,
            recorded_by=actor if counter else None,
        )
        if counter:
            audit_record(
                user=actor,
                action=AuditAction.DECISION,
                obj=submitted.registration,
                station=station,
                detail="registered at the counter, consent recorded",
            )
    logger.info("Registration %s submitted (%s).", submitted.registration.pk, source)
    return submitted
