"""
The ``state`` of WeChat's web authorisation: made here, checked on the way back.

WeChat returns ``state`` untouched and accepts only ``[a-zA-Z0-9]``, at most 128 bytes: a
random nonce (32 hex digits) followed by an HMAC (``SECRET_KEY``) of the purpose, the
nonce and the resident it is for. The nonce and what it is for are kept in *this* session
only, and taken out by the first return whatever it brings (single use). So a state from
another session (a stranger's crafted return URL), one used before, one older than
``STATE_SECONDS`` or one altered is refused before WeChat is asked anything.
"""

import secrets
import time

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from core.crypto import decrypt_text, encrypt_text

BIND = "bind"  # linking WeChat from the private page
MY = "my"  # the "My registration" menu entry
STATE_SECONDS = 10 * 60
_SALT = "wechat.oauth.state"


def _session_key(purpose: str) -> str:
    return f"wechat_oauth_{purpose}"


def _mac(purpose: str, nonce: str, resident_id) -> str:
    return salted_hmac(_SALT, f"{purpose}:{nonce}:{resident_id}", algorithm="sha256").hexdigest()[
        :32
    ]


def absolute(path: str) -> str:
    """Return the URL WeChat sends the resident back to (``SITE_URL``, never ``Host``)."""
    return settings.SITE_URL + path


def state_issue(
    session, purpose: str, *, resident_id: int | None = None, token: str = "", next: str = ""
) -> str:
    """Keep a new single-use state for ``purpose`` in ``session`` and return it."""
    nonce = secrets.token_hex(16)
    session[_session_key(purpose)] = {
        "nonce": nonce,
        "resident": resident_id,
        # The link (or a session's alias) to come back to, encrypted: a session row read
        # from the database alone never gives a private link (core.tokens keeps hashes).
        "token": encrypt_text(token) if token else "",
        "next": next,
        "at": int(time.time()),
    }
    return nonce + _mac(purpose, nonce, resident_id)


def state_take(session, purpose: str, state: str) -> dict | None:
    """Return what ``state`` was issued for in ``session`` and forget it; ``None`` if refused."""
    pending = session.pop(_session_key(purpose), None)
    if not isinstance(pending, dict) or not isinstance(state, str):
        return None
    if pending.get("at", 0) + STATE_SECONDS < time.time():
        return None
    expected = pending["nonce"] + _mac(purpose, pending["nonce"], pending.get("resident"))
    if not constant_time_compare(state, expected):
        return None
    try:
        token = decrypt_text(pending["token"]) if pending.get("token") else ""
    except InvalidToken:  # encrypted under a key since retired: start again
        return None
    return {**pending, "token": token}
