"""The resident's copy of their data (PIPL art. 45), reached through the private link."""

from django.utils import timezone

from registration.models import Registration


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
