"""
Storage of document photos: encrypted (Fernet) under random names in private storage.

The default storage is private (no MEDIA_URL); files leave it only decrypted by the
permission-checked views in ``registration.views_documents`` and the admin.

Each photo has a thumbnail, made once from the same decode when the photo is stored
(``core.images.image_sanitize``) and encrypted like it: the resident's pages show photos
at most 8rem (128 CSS pixels) wide and high (``.linli-thumb``), so the thumbnail's longest
side is ``THUMBNAIL_SIDE``, twice that for high-density screens. Pages that show a photo
small ask for the thumbnail and may keep it a little while (``THUMBNAIL_MAX_AGE``, private
caches only); staff reading a document get the photo itself, never cached.
"""

import base64
import logging
import secrets

from cryptography.fernet import InvalidToken
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from core.crypto import decrypt_bytes, encrypt_bytes

logger = logging.getLogger(__name__)

THUMBNAIL_SIDE = 256  # pixels: .linli-thumb's 8rem (128 CSS px) × 2 for dense screens
# A thumbnail never changes (a replaced photo is a new document with a new public ID); its
# browser may keep it for the review step and a form shown again, not for days.
THUMBNAIL_MAX_AGE = 15 * 60


def document_file_save(*, content: bytes) -> str:
    """Encrypt ``content`` and save it under a random name; return the storage name."""
    now = timezone.now()
    name = f"registration/{now:%Y/%m}/{secrets.token_hex(16)}.bin"
    return default_storage.save(name, ContentFile(encrypt_bytes(content)))


def document_file_read(*, name: str) -> bytes:
    """Return the decrypted bytes of the stored document ``name``."""
    with default_storage.open(name, "rb") as handle:
        return decrypt_bytes(handle.read())


def document_thumbnail_inline(*, document) -> str | None:
    """
    The thumbnail of ``document`` as a ``data:`` URI, for the review page, which shows the
    photos just sent: the ~8 KB of each travel in the page (a third more in base64) instead
    of one request per photo, each loading the session, the attempt and the document. None
    without a thumbnail or when its file cannot be read: the page then links it as before.
    """
    if not document.thumbnail:
        return None
    try:
        data = document_file_read(name=document.thumbnail.name)
    except (OSError, InvalidToken):
        logger.warning("Thumbnail of document %s unreadable; linked instead.", document.pk)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def _thumbnail_etag(document) -> str:
    return f'"t-{document.public_id.hex}"'


def document_response(
    *, document, filename: str | None = None, thumbnail: bool = False, request=None
) -> HttpResponse:
    """
    Return the decrypted JPEG of ``document`` as a private, never-cached response; with
    ``thumbnail``, its thumbnail (the photo itself for a document stored before there were
    thumbnails), privately cacheable, and 304 without reading the file when the browser
    already holds it (``request``'s If-None-Match).

    Behind nginx one could hand the file over with ``X-Accel-Redirect``; since files are
    encrypted at rest, Django decrypts them itself (they are small re-encoded JPEGs).
    """
    etag = _thumbnail_etag(document) if thumbnail else None
    if etag and request is not None and request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
        _cache_privately(response, etag)
        return response
    stored = document.thumbnail.name if thumbnail and document.thumbnail else document.file.name
    data = document_file_read(name=stored)
    response = HttpResponse(data, content_type="image/jpeg")
    name = filename or f"{document.kind}-{document.public_id.hex[:8]}.jpg"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store, max-age=0"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    if etag:
        _cache_privately(response, etag)
    return response


def _cache_privately(response: HttpResponse, etag: str) -> None:
    # Only the browser that was allowed to see it keeps it (a session or a private link).
    response["Cache-Control"] = f"private, max-age={THUMBNAIL_MAX_AGE}"
    response["ETag"] = etag
    patch_vary_headers(response, ("Cookie",))
