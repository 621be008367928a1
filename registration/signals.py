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

    def delete_unless_shared():
        # A document carried over to a later registration is another row on the same file:
        # the file goes only with the last row that uses it.
        if not Document.objects.filter(file=name).exists():
            storage.delete(name)

    # Only once the deletion is committed: a rolled-back delete must keep its file.
    transaction.on_commit(delete_unless_shared)
