"""
Residents' rights and retention (PIPL arts. 19, 45, 47): deletion requests, erasure at the
resident's request, anonymisation by the retention rule.

Stations are walls for writes as for reads: an erasure touches only the registrations of
the station that confirms it, and only those the resident asked to delete; a resident
known to several stations keeps their identity until no station holds a registration
of theirs that is not anonymised. Every station whose data changed gets its own audit
entry. Locks are taken registration first, then resident, as everywhere else.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.extensions import extensions
from privacy.constants import AuditAction
from privacy.services import audit_record
from registration.constants import (
    ACTIVE_STATUSES,
    AmendmentKind,
    ErrorCode,
    RegistrationStatus,
)
from registration.models import Document, Registration, Resident
from registration.services.workflow import _amend, _lock
from stations.selectors import user_is_member

S = RegistrationStatus

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
        document.delete()  # its file goes once the transaction commits...
        # ...unless a later registration carries it over (signals.document_file_delete).
        if not Document.objects.filter(file=document.file.name).exists():
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
    for erase in extensions("RESIDENT_ERASE_HOOKS"):  # the linked WeChat is contact too
        erase(resident=resident)
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


@dataclass
class Erased:
    """What ``resident_erase_many`` did: registrations erased, refusals by error code."""

    count: int = 0
    refused: dict[str, int] = field(default_factory=dict)


def resident_erase_many(*, registrations: Iterable[Registration], actor) -> Erased:
    """
    Erase the data of each of ``registrations`` (``resident_erase``), each in its own
    transaction; count the registrations erased and, by error code, those refused.
    """
    outcome = Erased()
    for registration in registrations:
        try:
            outcome.count += resident_erase(registration=registration, actor=actor)
        except ValidationError as error:
            outcome.refused[error.code] = outcome.refused.get(error.code, 0) + 1
    return outcome
