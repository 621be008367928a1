"""Reads of the registration app."""

import datetime
import json

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.crypto import blind_index
from core.references import REFERENCE_ALPHABET
from core.tokens import token_hash, token_looks_valid
from notifications.constants import Channel
from registration.constants import (
    ACTIVE_STATUSES,
    VISA_EXPIRING_DAYS,
    DocumentKind,
    PassportReadingStatus,
)
from registration.models import Amendment, Document, Registration, Resident, SubmissionAttempt
from registration.mrz import MrzReading
from stations.selectors import stations_for_user, user_sees_all_stations

DOCUMENT_NUMBER_PURPOSE = "document_number"
VISA_NUMBER_PURPOSE = "visa_number"


def document_number_index(number: str) -> str:
    """Return the blind index of a travel-document number."""
    return blind_index(number, purpose=DOCUMENT_NUMBER_PURPOSE)


def visa_number_index(number: str) -> str:
    """Return the blind index of a visa or permit number."""
    return blind_index(number, purpose=VISA_NUMBER_PURPOSE)


def reference_normalise(value: str) -> str:
    """Return ``value`` in the canonical ``XX-XXXX-XXXX`` form, tolerant of case and spaces."""
    cleaned = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    if len(cleaned) < 10:
        return cleaned
    prefix, body = cleaned[:-8], cleaned[-8:]
    return f"{prefix}-{body[:4]}-{body[4:]}"


def reference_looks_valid(value: str) -> bool:
    ref = reference_normalise(value)
    parts = ref.split("-")
    return (
        len(parts) == 3
        and parts[0].isalpha()
        and all(ch in REFERENCE_ALPHABET for ch in parts[1] + parts[2])
    )


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


def resident_routes(resident: Resident, *, sms: bool | None = None) -> list[tuple[str, str]]:
    """
    Return how to reach ``resident``, as ``(channel, address)`` pairs: email whenever there
    is an address, and SMS too when the resident prefers SMS or has no email (``sms``
    forces it on or off). The one rule of "how to reach a resident", for every message.
    """
    email = resident.email or ""
    phone = str(resident.phone or "")
    want_sms = sms if sms is not None else (resident.preferred_channel == Channel.SMS or not email)
    routes = []
    if email:
        routes.append((Channel.EMAIL, email))
    if want_sms and phone:
        routes.append((Channel.SMS, phone))
    return routes


def resident_route(resident: Resident) -> tuple[str, str] | None:
    """Return the one way to reach ``resident``: their preferred channel if it can be used."""
    routes = resident_routes(resident)
    preferred = [route for route in routes if route[0] == resident.preferred_channel]
    return (preferred or routes or [None])[0]


def registration_get_by_token(*, token: str) -> Registration | None:
    """Return the registration of the private link ``token`` (with resident and station)."""
    if not token_looks_valid(token):
        return None
    return (
        Registration.objects.select_related("resident", "station")
        .prefetch_related("station__texts")
        .filter(token_hash=token_hash(token))
        .first()
    )


def registration_get_by_reference(*, reference: str) -> Registration | None:
    """Return the registration with this reference (any case, spacing), or ``None``."""
    if not reference_looks_valid(reference):
        return None
    return (
        Registration.objects.select_related("resident", "station")
        .filter(reference=reference_normalise(reference))
        .first()
    )


def registration_for_receipt(*, pk: int) -> Registration | None:
    """Return one registration with everything its receipt shows, in a fixed few queries."""
    return (
        Registration.objects.select_related("resident", "station")
        .prefetch_related(
            "station__texts",
            Prefetch("documents", queryset=Document.objects.order_by("kind", "uploaded_at")),
        )
        .filter(pk=pk)
        .first()
    )


def registration_timeline(*, registration: Registration) -> QuerySet[Amendment]:
    """Return the updates of ``registration`` and of the registrations it follows."""
    ids = [registration.pk]
    previous_id = registration.previous_id
    seen = 0
    while previous_id and seen < 20:
        ids.append(previous_id)
        previous_id = (
            Registration.objects.filter(pk=previous_id)
            .values_list("previous_id", flat=True)
            .first()
        )
        seen += 1
    return (
        Amendment.objects.filter(registration_id__in=ids)
        .select_related("registration")
        .order_by("-created_at", "-pk")
    )


def resident_find(*, nationality: str, document_number: str) -> Resident | None:
    """
    Return a resident with this travel-document number and nationality, if any (the first;
    several records may carry one number, see ``resident_match_suggestions``).
    """
    index = document_number_index(document_number)
    if not index:
        return None
    return Resident.objects.filter(nationality=nationality, document_number_index=index).first()


# ------------------------------------------------------------------------------
# Identity: which records are one person (docs/identity.md)
# ------------------------------------------------------------------------------
def resident_same_person_ids(*, resident: Resident) -> list[int]:
    """
    Return the ids of the records staff confirmed to be the same person as ``resident``
    (``resident`` included). The registrations a private link leads to share one resident.
    """
    person_id = resident.person_id
    return list(
        Resident.objects.filter(Q(pk=person_id) | Q(same_person_as_id=person_id)).values_list(
            "pk", flat=True
        )
    )


def registration_other_stays(*, registration: Registration, user) -> QuerySet[Registration]:
    """
    Return the other registrations of the person of ``registration`` that ``user`` may see:
    its own resident's (the private-link chain) and those of records staff confirmed as the
    same person — never of a record that only shares the document number.
    """
    return (
        registrations_for_user(user)
        .filter(resident_id__in=resident_same_person_ids(resident=registration.resident))
        .exclude(pk=registration.pk)
        .select_related("station")
        .order_by("-arrival_at", "-pk")
    )


def resident_match_suggestions(
    *, registration: Registration, user, limit: int = 10
) -> list[Resident]:
    """
    Return the records that may be the same person as the resident of ``registration``:
    same nationality and travel-document number, not anonymised, not yet confirmed, and with
    a registration ``user`` may see. Each carries ``visible_registrations``, only those of
    the user's stations: another station's records stay behind its wall.

    A suggestion proves nothing (anyone may type a passport number): staff confirm it
    (``services.resident_match_confirm``) before it links anything.
    """
    resident = registration.resident
    if not resident.document_number_index or resident.anonymised_at is not None:
        return []
    visible = registrations_for_user(user)
    return list(
        Resident.objects.filter(
            nationality=resident.nationality,
            document_number_index=resident.document_number_index,
            anonymised_at__isnull=True,
            registrations__in=visible,
        )
        .exclude(pk__in=resident_same_person_ids(resident=resident))
        .distinct()
        .order_by("pk")
        .prefetch_related(
            Prefetch(
                "registrations",
                queryset=visible.select_related("station").order_by("-arrival_at", "-pk"),
                to_attr="visible_registrations",
            )
        )[:limit]
    )


def registrations_for_user(user) -> QuerySet[Registration]:
    """Return the registrations of the stations ``user`` may see (staff scoping)."""
    qs = Registration.objects.all()
    if user_sees_all_stations(user):
        return qs
    return qs.filter(station__in=stations_for_user(user))


def documents_current(*, registration: Registration) -> dict[str, Document]:
    """Return the latest document of each kind of ``registration``."""
    latest: dict[str, Document] = {}
    for document in registration.documents.all():
        latest[document.kind] = document  # ordered by upload: the last one wins
    return latest


def passport_reading_get(*, attempt: SubmissionAttempt | None) -> tuple[str, MrzReading | None]:
    """
    Return where the reading of the attempt's passport photo stands, and the reading once
    done. A reading of a photo replaced since counts as none: it is never shown.
    """
    if attempt is None:
        return PassportReadingStatus.NONE, None
    row = (
        SubmissionAttempt.objects.filter(pk=attempt.pk)
        .values("passport_reading_status", "passport_reading_document_id", "passport_reading")
        .first()
    )
    current = (
        Document.objects.filter(attempt_id=attempt.pk, kind=DocumentKind.PASSPORT_PAGE)
        .order_by("-uploaded_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if row is None or current is None or row["passport_reading_document_id"] != current:
        return PassportReadingStatus.NONE, None
    status = row["passport_reading_status"]
    if status != PassportReadingStatus.DONE:
        return status, None
    try:
        data = json.loads(row["passport_reading"] or "{}")
    except ValueError:
        data = {}
    return status, MrzReading.from_dict(data if isinstance(data, dict) else {})


def residents_for_check_in(*, station) -> QuerySet[Resident]:
    """
    Return the residents with an active registration at ``station`` who agreed to be
    contacted, each person once: of records staff confirmed as one person, the newest (its
    contact details are the latest). Records that only share a document number are not
    merged: that would let a stranger's form decide who is asked.
    """
    eligible = Resident.objects.filter(
        contact_consent=True,
        registrations__station=station,
        registrations__status__in=ACTIVE_STATUSES,
    ).annotate(person=Coalesce("same_person_as_id", "pk"))
    newer_record = eligible.filter(person=OuterRef("person"), pk__gt=OuterRef("pk"))
    return eligible.exclude(Exists(newer_record)).distinct()


def resident_data_export(*, registration: Registration) -> dict:
    """
    Return what Linli holds about the resident of ``registration`` (PIPL art. 45): their
    identity and contact, and every registration reachable from this private link.
    """
    resident = registration.resident

    def iso(value):
        if value is None:
            return None
        if hasattr(value, "tzinfo") and getattr(value, "hour", None) is not None:
            return timezone.localtime(value).isoformat()
        return value.isoformat()

    registrations = []
    current = registration
    seen = 0
    while current is not None and seen < 50:
        registrations.append(
            {
                "reference": current.reference,
                "station": current.station.code,
                "status": current.status,
                "visa_type": current.visa_type,
                "visa_number": current.visa_number,
                "visa_valid_until": iso(current.visa_valid_until),
                "entry_date": iso(current.entry_date),
                "port_of_entry": current.port_of_entry,
                "arrival_at": iso(current.arrival_at),
                "expected_departure": iso(current.expected_departure),
                "stay_reason": current.stay_reason,
                "school_or_employer": current.school_or_employer,
                "address": current.address,
                "accommodation_type": current.accommodation_type,
                "host_name": current.host_name,
                "host_phone": str(current.host_phone or ""),
                "submitted_at": iso(current.submitted_at),
                "consent_notice_version": current.consent_notice_version,
                "consent_given_at": iso(current.consent_given_at),
                "staff_message": current.staff_message,
                "ended_at": iso(current.ended_at),
                "end_reason": current.end_reason,
                "documents": [
                    {"kind": d.kind, "uploaded_at": iso(d.uploaded_at)}
                    for d in current.documents.all()
                ],
                "history": [
                    {"when": iso(a.created_at), "what": a.kind, "status": a.status_after}
                    for a in current.amendments.all()
                ],
            }
        )
        current = current.previous
        seen += 1
    return {
        "exported_at": iso(timezone.now()),
        "resident": {
            "surname": resident.surname,
            "given_names": resident.given_names,
            "chinese_name": resident.chinese_name,
            "sex": resident.sex,
            "date_of_birth": iso(resident.date_of_birth),
            "nationality": resident.nationality.code,
            "document_type": resident.document_type,
            "document_number": resident.document_number,
            "document_expiry": iso(resident.document_expiry),
            "phone": str(resident.phone or ""),
            "email": resident.email,
            "wechat_id": resident.wechat_id,
            "preferred_language": resident.preferred_language,
            "preferred_channel": resident.preferred_channel,
            "contact_consent": resident.contact_consent,
        },
        "registrations": registrations,
    }


# What a reviewer compares between two versions of a stay (not bookkeeping columns).
REVIEW_FIELDS = (
    "station",
    "address",
    "accommodation_type",
    "host_name",
    "host_phone",
    "visa_type",
    "visa_number",
    "visa_valid_until",
    "entry_date",
    "port_of_entry",
    "arrival_at",
    "expected_departure",
    "stay_reason",
    "school_or_employer",
)


def _display(field, value) -> str:
    if value in (None, ""):
        return "—"
    choices = dict(field.flatchoices) if field.choices else {}
    return str(choices.get(value, value))


def registration_changes(*, registration: Registration) -> list[tuple[str, str, str]]:
    """
    Return ``(field, before, after)`` for what changed since the previous version: the
    registration's own previous history record, or, for a new address, the registration
    it follows at the same station. Two queries at most.
    """
    opts = Registration._meta
    fields = [opts.get_field(name) for name in REVIEW_FIELDS]
    versions = list(registration.history.order_by("-history_date", "-history_id")[:2])
    changes: list[tuple[str, str, str]] = []
    if len(versions) == 2:
        delta = versions[0].diff_against(versions[1], included_fields=list(REVIEW_FIELDS))
        by_name = {change.field: change for change in delta.changes}
        for field in fields:
            if field.name in by_name:
                change = by_name[field.name]
                changes.append(
                    (
                        str(field.verbose_name),
                        _display(field, change.old),
                        _display(field, change.new),
                    )
                )
        if changes:
            return changes
    previous = registration.previous
    # A stay at another station is that station's record: stations are walls for reads.
    if previous is None or previous.station_id != registration.station_id:
        return []
    for field in fields:
        before, after = field.value_from_object(previous), field.value_from_object(registration)
        if before != after:
            changes.append(
                (str(field.verbose_name), _display(field, before), _display(field, after))
            )
    return changes
