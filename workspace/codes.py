"""
Enrolment codes: short random codes a person reads out or types, of which only a keyed hash
is stored.

Twelve characters of Crockford's base32 (60 random bits), shown as ``7K3M-Q9XD-2HTB``.
Typing is forgiving: case, spaces and hyphens do not matter, and O, I and L read as 0, 1, 1.
The hash is an HMAC keyed with ``SECRET_KEY``, so a copy of the database alone gives no code.
"""

import secrets

from django.utils.crypto import salted_hmac

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
GROUP = 4
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def enrolment_code_new() -> str:
    """Return a new random enrolment code, grouped for reading (``XXXX-XXXX-XXXX``)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def enrolment_code_normalise(typed: str) -> str:
    """Return ``typed`` as the code's canonical characters, or "" if it cannot be a code."""
    code = (typed or "").upper().translate(_CONFUSABLE)
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return ""
    return code


def enrolment_code_hash(typed: str) -> str:
    """Return the stored hash of the code ``typed`` ("" if it cannot be a code)."""
    code = enrolment_code_normalise(typed)
    if not code:
        return ""
    return salted_hmac("linli.workspace.enrolment-code", code, algorithm="sha256").hexdigest()
