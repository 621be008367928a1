"""Add a few demo registrations to the demo stations (idempotent; for `make run` and demos)."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.utils import timezone
from PIL import Image, ImageDraw

from registration import services
from registration.constants import RegistrationStatus
from registration.models import Registration
from registration.selectors import resident_find
from stations.models import Station

DEMO = [
    # surname, given names, nationality, document, language, status, hours since arrival
    ("DIALLO", "Aminata", "SN", "A09876543", "en", RegistrationStatus.SUBMITTED, 3),
    ("IVANOV", "Pavel", "RU", "753214689", "en", RegistrationStatus.SUBMITTED, 30),
    ("NGUYEN", "Thi Lan", "VN", "C1234567", "zh-hans", RegistrationStatus.REGISTERED, 200),
    ("SILVA", "Mariana", "BR", "FZ123456", "en", RegistrationStatus.CORRECTION_REQUESTED, 60),
]


def _photo(label: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (900, 600), (235, 238, 245))
    ImageDraw.Draw(image).text((40, 280), f"DEMO — {label}", fill=(20, 40, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return SimpleUploadedFile(f"{label}.jpg", buffer.getvalue(), "image/jpeg")


class Command(BaseCommand):
    help = "Create demo registrations at the station 'shipai' (skips those that exist)."

    def add_arguments(self, parser):
        parser.add_argument("--station", default="shipai")

    def handle(self, *args, station, **options):
        station_obj = Station.objects.filter(code=station).first()
        if station_obj is None:
            self.stderr.write(f"No station {station!r}: run seed_demo first.")
            return
        today = timezone.localdate()
        created = 0
        for surname, given, country, number, language, status, hours in DEMO:
            if resident_find(nationality=country, document_number=number):
                continue
            _raw, attempt = services.attempt_start(station=station_obj)
            for kind in ("passport_page", "visa_page", "entry_stamp"):
                services.attempt_photo_add(attempt=attempt, kind=kind, uploaded_file=_photo(kind))
            data = {
                "surname": surname,
                "given_names": given,
                "sex": "female" if given in ("Aminata", "Thi Lan", "Mariana") else "male",
                "date_of_birth": datetime.date(1998, 5, 17),
                "nationality": country,
                "document_type": "passport",
                "document_number": number,
                "document_expiry": today + datetime.timedelta(days=1500),
                "visa_type": "X1",
                "visa_number": f"V{number[-6:]}",
                "visa_valid_until": today + datetime.timedelta(days=120),
                "entry_date": today - datetime.timedelta(days=20),
                "arrival_at": timezone.now() - datetime.timedelta(hours=hours),
                "expected_departure": today + datetime.timedelta(days=110),
                "stay_reason": "study",
                "school_or_employer": "South China University of Technology",
                "address": "Building 3, Unit 2, Room 501, Shipai West Road",
                "accommodation_type": "rented",
                "host_name": "王芳",
                "host_phone": "",
                "phone": "+8613800138000",
                "email": f"{given.split()[0].lower()}@example.org",
                "preferred_language": language,
                "preferred_channel": "email",
                "contact_consent": True,
            }
            submitted = services.registration_submit(
                station=station_obj, data=data, attempt=attempt, language=language
            )
            registration = submitted.registration
            Registration.objects.filter(pk=registration.pk).update(
                submitted_at=registration.arrival_at + datetime.timedelta(hours=min(hours, 2))
            )
            if status == RegistrationStatus.REGISTERED:
                Registration.objects.filter(pk=registration.pk).update(status=status)
            elif status == RegistrationStatus.CORRECTION_REQUESTED:
                Registration.objects.filter(pk=registration.pk).update(
                    status=status, staff_message="The entry stamp photo is blurred."
                )
            created += 1
            self.stdout.write(
                f"{registration.reference}  private link: {services.private_link_url(submitted.token)}"
            )
        self.stdout.write(f"{created} demo registrations created at {station}.")
