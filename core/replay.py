"""
The one replay guard of Linli: a signed request is accepted once within its time window.

A caller that verifies a signature over a timestamp and a nonce (WeChat's callbacks) asks
``replay_first_use`` whether that pair is new. Pairs are remembered in the cache (Redis in
production, shared by every worker and node) for the window, hashed like rate-limit keys;
a timestamp outside the window is refused before the cache is asked, so a pair never needs
remembering longer than that.

**When the cache does not answer, the pair counts as new** (fails open, a warning logged):
the signature and the window still hold, and what a replay could cause must be harmless
on its own (WeChat's ``MsgId`` is a unique key in the database, so a replayed photo is
recorded once). Refusing instead would drop every resident's message while Redis is away.
"""

import hashlib
import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def timestamp_fresh(timestamp: str, *, window: int, now: float | None = None) -> bool:
    """Return whether the Unix ``timestamp`` (text) is within ``window`` seconds of now."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    return abs(now - value) <= window


def replay_first_use(namespace: str, *parts: str, window: int) -> bool:
    """
    Remember ``parts`` (a timestamp and a nonce) under ``namespace`` for ``window`` seconds
    plus a margin; return ``True`` the first time, ``False`` for a replay.
    """
    digest = hashlib.sha256("\0".join((namespace, *parts)).encode("utf-8")).hexdigest()
    try:
        # Twice the window: a timestamp accepted at the window's edge stays remembered for
        # as long as it can still be accepted (now ± window).
        return bool(cache.add(f"replay:{digest}", 1, timeout=2 * window))
    except Exception:
        logger.warning("Replay guard is off: the cache does not answer (%s).", namespace)
        return True
