"""
Test data of the privacy tests: a resident two stations hold, photos, ended registrations.

Station A (``linhe``) registered the resident first; the resident then moved, through their
private link, into station B's area (``shipai``) and changed their name, contact, travel
document and date of birth there. Values of A's era are the module constants ``A_*``.
"""

import datetime
from types import SimpleNamespace

from django.utils import timezone

from registration import services
from registration.constants import EndReason, RegistrationStatus
from registration.models import Document, Registration
from registration.selectors import document_number_index
from tests.registration.factories import (
    RegistrationFactory,
    ResidentFactory,
    jpeg_bytes,
    photo_upload,
    registration_with_token,
)

A_SURNAME = "Adeyemi"
A_EMAIL = "adeyemi.linhe-era@example.org"
A_PHONE = "+8613911112222"
A_DOCUMENT = "AERA77001"
A_BIRTH = datetime.date(1991, 7, 23)
A_ADDRESS = "Linhe Middle Road 88, Room 1203"

B_SURNAME = "Okafor"
B_EMAIL = "okafor.shipai-era@example.org"
B_DOCUMENT = "BERA55002"


def photo_attach(registration) -> str:
    """Attach a cleaned photo to ``registration``; return its file name in storage."""
    _raw, attempt = services.attempt_start()
    document = services.attempt_photo_add(
        attempt=attempt, kind="visa_page", uploaded_file=photo_upload(data=jpeg_bytes())
    )
    Document.objects.filter(pk=document.pk).update(registration=registration, attempt=None)
    return document.file.name


def registration_end(registration, *, days_ago: int = 1) -> None:
    """Mark ``registration`` ended ``days_ago`` days ago (without a message)."""
    when = timezone.now() - datetime.timedelta(days=days_ago)
    Registration.objects.filter(pk=registration.pk).update(
        status=RegistrationStatus.ENDED,
        end_reason=EndReason.MOVED,
        ended_at=when,
        status_changed_at=when,
    )
    registration.refresh_from_db()


def shared_resident_make(*, station_a, station_b) -> SimpleNamespace:
    """
    A resident held by both stations: A's registration ended when they moved (with a photo),
    B's is the current one, reached by the private link ``token``.
    """
    resident = ResidentFactory(
        surname=A_SURNAME,
        email=A_EMAIL,
        phone=A_PHONE,
        document_number=A_DOCUMENT,
        date_of_birth=A_BIRTH,
    )
    at_a = RegistrationFactory(station=station_a, resident=resident, address=A_ADDRESS)
    a_photo = photo_attach(at_a)
    registration_end(at_a, days_ago=20)
    # B's era: the resident's record as it is now.
    resident.surname = B_SURNAME
    resident.email = B_EMAIL
    resident.phone = "+8613800138000"
    resident.document_number = B_DOCUMENT
    resident.document_number_index = document_number_index(B_DOCUMENT)
    resident.date_of_birth = datetime.date(1991, 7, 24)
    resident.save()
    at_b, token = registration_with_token(station=station_b, resident=resident, previous=at_a)
    return SimpleNamespace(resident=resident, at_a=at_a, at_b=at_b, token=token, a_photo=a_photo)
