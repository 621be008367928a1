"""Delete a document's encrypted files (photo, thumbnail) when its row goes (cascades too)."""

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
    thumbnail = instance.thumbnail.name

    def delete_unless_shared():
        # A document carried over to a later registration is another row on the same files:
        # they go only with the last row that uses them.
        if not Document.objects.filter(file=name).exists():
            storage.delete(name)
            if thumbnail:
                storage.delete(thumbnail)

    # Only once the deletion is committed: a rolled-back delete must keep its file.
    transaction.on_commit(delete_unless_shared)
