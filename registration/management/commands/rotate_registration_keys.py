"""Re-encrypt document numbers and photos with the first key of FIELD_ENCRYPTION_KEYS."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction

from core.crypto import rotate_bytes
from registration.models import Document, Registration, Resident


class Command(BaseCommand):
    help = (
        "Re-encrypt travel-document and visa numbers and document photos with the current "
        "(first) key of FIELD_ENCRYPTION_KEYS, so that older keys can be removed."
    )

    def handle(self, *args, **options):
        residents = registrations = files = 0
        for pk in Resident.objects.values_list("pk", flat=True).iterator(chunk_size=500):
            with transaction.atomic():
                resident = Resident.objects.select_for_update().get(pk=pk)
                resident.skip_history_when_saving = True
                resident.save(update_fields=["document_number"])  # decrypted, re-encrypted
            residents += 1
        for pk in Registration.objects.values_list("pk", flat=True).iterator(chunk_size=500):
            with transaction.atomic():
                registration = Registration.objects.select_for_update().get(pk=pk)
                registration.skip_history_when_saving = True
                registration.save(update_fields=["visa_number"])
            registrations += 1
        stored = Document.objects.values_list("file", "thumbnail").iterator(chunk_size=500)
        for photo, thumbnail in stored:
            for name in filter(None, (photo, thumbnail)):  # a thumbnail is encrypted too
                with default_storage.open(name, "rb") as handle:
                    token = handle.read()
                rotated = rotate_bytes(token)
                if rotated != token:
                    default_storage.delete(name)
                    default_storage.save(name, ContentFile(rotated))
            files += 1
        self.stdout.write(
            f"Re-encrypted {residents} residents, {registrations} registrations, {files} photos."
        )
