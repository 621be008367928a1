"""Delete a document's encrypted file when its row goes (cascades included)."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from registration.models import Document


@receiver(post_delete, sender=Document, dispatch_uid="registration_document_file_delete")
def document_file_delete(sender, instance: Document, **kwargs):
    name = instance.file.name
    if not name:
        return
    storage = instance.file.storage
    # Only once the deletion is committed: a rolled-back delete must keep its file.
    transaction.on_commit(lambda: storage.delete(name))
