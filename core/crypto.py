"""
Encryption at rest for travel-document and visa numbers, and for document photos.

Values are encrypted with ``MultiFernet`` over the keys in ``settings.FIELD_ENCRYPTION_KEYS``:
the first key encrypts, every key decrypts, so a key is rotated by putting a new one first
(and re-encrypting with ``manage.py rotate_registration_keys`` before dropping the old one).
Exact search uses a *blind index*: an HMAC-SHA256 of the normalised value under
``settings.BLIND_INDEX_KEY``, which reveals equality and nothing else.
"""

import hashlib
import hmac
import re
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise RuntimeError("settings.FIELD_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key) for key in keys])


def _reset(*, setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


setting_changed.connect(_reset)


def encrypt_bytes(data: bytes) -> bytes:
    """Encrypt ``data`` with the current key."""
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    """Decrypt ``token`` with whichever configured key made it; raise ``InvalidToken``."""
    return _fernet().decrypt(token)


def rotate_bytes(token: bytes) -> bytes:
    """Re-encrypt ``token`` with the current (first) key."""
    return _fernet().rotate(token)


def encrypt_text(value: str) -> str:
    return encrypt_bytes(value.encode()).decode("ascii")


def decrypt_text(value: str) -> str:
    return decrypt_bytes(value.encode("ascii")).decode()


def normalise_document_number(value: str) -> str:
    """Return ``value`` upper-cased with spaces and punctuation removed (for matching)."""
    return _NOT_ALNUM.sub("", (value or "").upper())


def blind_index(value: str, *, purpose: str) -> str:
    """Return the keyed hash of the normalised ``value``; ``purpose`` separates fields."""
    normalised = normalise_document_number(value)
    if not normalised:
        return ""
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, f"{purpose}:{normalised}".encode(), hashlib.sha256).hexdigest()


def blind_index_exact(value: str, *, purpose: str) -> str:
    """Like ``blind_index`` for a case-sensitive identifier kept as it is (a WeChat openid)."""
    if not value:
        return ""
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


__all__ = [
    "InvalidToken",
    "blind_index",
    "blind_index_exact",
    "decrypt_bytes",
    "decrypt_text",
    "encrypt_bytes",
    "encrypt_text",
    "normalise_document_number",
    "rotate_bytes",
]
