"""
Private-link tokens: long random secrets of which only the SHA-256 hash is stored.

``token_new()`` returns the raw token (shown or sent once) and the hash to store; a link is
looked up by the hash of what the visitor presents (registration and inquiry links).
"""

import hashlib
import hmac
import re
import secrets

# 32 random bytes = 256 bits, URL-safe base64 without padding: 43 characters.
TOKEN_BYTES = 32
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,100}$")


def token_hash(raw: str) -> str:
    """Return the SHA-256 hex digest of the raw token ``raw``."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def token_new() -> tuple[str, str]:
    """Return ``(raw_token, token_hash)``: give out the first, store only the second."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    return raw, token_hash(raw)


def token_looks_valid(raw: str) -> bool:
    """Return whether ``raw`` has the shape of a token (cheap check before any lookup)."""
    return bool(raw) and bool(TOKEN_RE.match(raw))


def token_matches(raw: str, stored_hash: str) -> bool:
    """Compare the hash of ``raw`` with ``stored_hash`` in constant time."""
    return hmac.compare_digest(token_hash(raw), stored_hash or "")
