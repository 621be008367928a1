"""Factories and helpers for residents, registrations and photos."""

import datetime
import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from core.references import reference_new
from core.tokens import token_new
from registration.constants import CONSENT_NOTICE_VERSION, RegistrationStatus
from registration.models import Registration, Resident
from registration.selectors import document_number_index, visa_number_index
from registration.services import reference_prefix
from tests.stations.factories import StationFactory


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    surname = factory.Sequence(lambda n: f"Diallo{n}")
    given_names = "Aminata"
    sex = "female"
    date_of_birth = datetime.date(1999, 4, 12)
    nationality = "SN"
    document_type = "passport"
    document_number = factory.Sequence(lambda n: f"A{n:08d}")
    document_number_index = factory.LazyAttribute(
        lambda o: document_number_index(o.document_number)
    )
    document_expiry = factory.LazyFunction(
        lambda: timezone.localdate() + datetime.timedelta(days=900)
    )
    phone = "+8613800138000"
    email = factory.Sequence(lambda n: f"resident{n}@example.org")
    preferred_language = "en"
    preferred_channel = "email"
    contact_consent = True


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration
        exclude = ["token"]

    resident = factory.SubFactory(ResidentFactory)
    station = factory.SubFactory(StationFactory, code="shipai")
    status = RegistrationStatus.SUBMITTED
    reference = factory.LazyAttribute(lambda o: reference_new(prefix=reference_prefix(o.station)))
    token = factory.LazyFunction(token_new)
    token_hash = factory.LazyAttribute(lambda o: o.token[1])
    visa_type = "X1"
    visa_number = factory.Sequence(lambda n: f"V{n:07d}")
    visa_number_index = factory.LazyAttribute(lambda o: visa_number_index(o.visa_number))
    entry_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=3))
    visa_valid_until = factory.LazyFunction(
        lambda: timezone.localdate() + datetime.timedelta(days=300)
    )
    arrival_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=2))
    deadline_at = factory.LazyAttribute(lambda o: o.arrival_at + datetime.timedelta(hours=24))
    expected_departure = factory.LazyFunction(
        lambda: timezone.localdate() + datetime.timedelta(days=200)
    )
    stay_reason = "study"
    address = "Building 3, Unit 2, Room 501, Shipai West Road"
    accommodation_type = "rented"
    host_name = "Wang Fang"
    consent_notice_version = CONSENT_NOTICE_VERSION
    consent_given_at = factory.LazyFunction(timezone.now)
    submitted_at = factory.LazyFunction(timezone.now)


def registration_with_token(**kwargs) -> tuple[Registration, str]:
    """Create a registration and return it with the raw token of its private link."""
    raw, hashed = token_new()
    registration = RegistrationFactory(token_hash=hashed, **kwargs)
    return registration, raw


def jpeg_bytes(size=(800, 600), color="navy", exif=None, **save) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is not None:
        save["exif"] = exif
    image.save(buffer, "JPEG", **save)
    return buffer.getvalue()


def png_bytes(size=(400, 300), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "green" if mode == "RGB" else (0, 128, 0, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def photo_upload(name="photo.jpg", data=None, content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else jpeg_bytes(), content_type)


def form_data(**overrides) -> dict:
    """A complete, valid registration form as a phone would post it."""
    today = timezone.localdate()
    arrival = timezone.localtime() - datetime.timedelta(hours=3)
    data = {
        "surname": "Diallo",
        "given_names": "Aminata",
        "chinese_name": "",
        "sex": "female",
        "date_of_birth": "1999-04-12",
        "nationality": "SN",
        "document_type": "passport",
        "document_number": "A12345678",
        "document_expiry": (today + datetime.timedelta(days=900)).isoformat(),
        "visa_type": "X1",
        "visa_number": "V1234567",
        "visa_valid_until": (today + datetime.timedelta(days=300)).isoformat(),
        "entry_date": (today - datetime.timedelta(days=3)).isoformat(),
        "port_of_entry": "Guangzhou Baiyun",
        "arrival_at": arrival.strftime("%Y-%m-%dT%H:%M"),
        "expected_departure": (today + datetime.timedelta(days=200)).isoformat(),
        "stay_reason": "study",
        "school_or_employer": "South China University of Technology",
        "address": "Building 3, Unit 2, Room 501, Shipai West Road",
        "accommodation_type": "rented",
        "host_name": "Wang Fang",
        "host_phone": "13912345678",
        "phone": "13800138000",
        "email": "aminata@example.org",
        "wechat_id": "aminata_d",
        "preferred_language": "en",
        "preferred_channel": "email",
        "contact_consent": "on",
        "consent": "on",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def photos() -> dict:
    return {
        "passport_page": photo_upload("passport.jpg"),
        "visa_page": photo_upload("visa.png", png_bytes(), "image/png"),
        "entry_stamp": photo_upload("stamp.jpg"),
    }
