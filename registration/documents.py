"""
Storage of document photos: encrypted (Fernet) under random names in private storage.

The default storage is private (no MEDIA_URL); files leave it only decrypted by the
permission-checked views in ``registration.views_documents`` and the admin.
"""

import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.utils import timezone

from core.crypto import decrypt_bytes, encrypt_bytes


def document_file_save(*, content: bytes) -> str:
    """Encrypt ``content`` and save it under a random name; return the storage name."""
    now = timezone.now()
    name = f"registration/{now:%Y/%m}/{secrets.token_hex(16)}.bin"
    return default_storage.save(name, ContentFile(encrypt_bytes(content)))


def document_file_read(*, name: str) -> bytes:
    """Return the decrypted bytes of the stored document ``name``."""
    with default_storage.open(name, "rb") as handle:
        return decrypt_bytes(handle.read())


def document_response(*, document, filename: str | None = None) -> HttpResponse:
    """
    Return the decrypted JPEG of ``document`` as a private, never-cached response.

    Behind nginx one could hand the file over with ``X-Accel-Redirect``; since files are
    encrypted at rest, Django decrypts them itself (they are small re-encoded JPEGs).
    """
    data = document_file_read(name=document.file.name)
    response = HttpResponse(data, content_type="image/jpeg")
    name = filename or f"{document.kind}-{document.public_id.hex[:8]}.jpg"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store, max-age=0"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
