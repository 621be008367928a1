"""Management commands: key rotation and demo registrations."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from registration.documents import document_file_read
from registration.models import Document, Registration, Resident
from tests.registration.factories import RegistrationFactory

pytestmark = pytest.mark.django_db


def test_rotation_re_encrypts_numbers_and_photos_with_the_new_key(station, settings):
    call_command("seed_demo_registrations", stdout=io.StringIO())
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    call_command("rotate_registration_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    resident = Resident.objects.get(surname="DIALLO")
    assert resident.document_number == "A09876543"
    document = Document.objects.first()
    assert document_file_read(name=document.file.name).startswith(b"\xff\xd8")
    assert document.thumbnail and all(
        document_file_read(name=d.thumbnail.name).startswith(b"\xff\xd8")
        for d in Document.objects.all()
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT visa_number FROM registration_registration")
        assert all(Fernet(new_key).decrypt(row[0].encode()) for row in cursor.fetchall())
    assert default_storage.exists(document.file.name)


def test_demo_registrations_are_idempotent(station):
    out = io.StringIO()
    call_command("seed_demo_registrations", stdout=out)
    call_command("seed_demo_registrations", stdout=io.StringIO())
    assert Registration.objects.count() == 4
    assert "/registration/r/" in out.getvalue()
    assert Registration.objects.filter(status="registered").count() == 1


def test_demo_needs_the_station(db):
    err = io.StringIO()
    call_command("seed_demo_registrations", stderr=err, stdout=io.StringIO())
    assert "seed_demo" in err.getvalue()
    assert not RegistrationFactory._meta.model.objects.exists()
