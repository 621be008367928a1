"""
Private access held by a browser session instead of by a link (docs/identity.md).

A bound WeChat counts as "acting through the private link", nothing more. The account's
"My registration" menu entry proves the resident by WeChat's web authorisation and then
gives *this session* the access the private link gives: a random alias token, valid only
together with the session that received it and only for ``PRIVATE_ACCESS_SECONDS``, that
opens the registration currently holding the resident's link (the head of the chain, so a
move made through it is followed). The alias is useless without the session cookie, so
there is no link to keep or lose; the real private link is never shown or changed.

``registration_for_private_access`` is the one lookup of every private-link page: the link
itself (a lost-link link is claimed on first use), else this session's alias.
"""

import time

from core.tokens import token_hash, token_looks_valid, token_new
from registration import services
from registration.models import Registration, Resident
from registration.selectors import registration_get_by_token

SESSION_KEY = "registration_private_access"
PRIVATE_ACCESS_SECONDS = 2 * 60 * 60


def _link_holder(resident_id: int) -> Registration | None:
    return (
        Registration.objects.select_related("resident", "station")
        .prefetch_related("station__texts")
        .filter(resident_id=resident_id, token_hash__isnull=False, anonymised_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )


def private_access_grant(*, session, resident: Resident) -> str | None:
    """
    Give ``session`` the private access of ``resident``'s link; return the alias token.

    ``None`` when the resident holds no link any more (erased). One grant per session: a
    new one replaces the last. The caller cycles the session key first (no fixation).
    """
    if _link_holder(resident.pk) is None:
        return None
    alias, hashed = token_new()
    session[SESSION_KEY] = {
        "hash": hashed,
        "resident": resident.pk,
        "until": int(time.time()) + PRIVATE_ACCESS_SECONDS,
    }
    return alias


def private_access_resident_id(*, session, token: str) -> int | None:
    """Return the resident whose access ``token`` is in ``session``, or ``None``."""
    grant = session.get(SESSION_KEY)
    if not grant or not token_looks_valid(token) or grant.get("until", 0) < time.time():
        return None
    if grant.get("hash") != token_hash(token):
        return None
    return grant.get("resident")


def registration_for_private_access(*, session, token: str) -> Registration | None:
    """Return the registration ``token`` opens in ``session`` (the link or an alias)."""
    registration = registration_get_by_token(token=token)
    if registration is None:
        # A link from the lost-link form, opened for the first time, becomes the private
        # link (looked up again: a second tab may have claimed it a moment before).
        services.registration_link_claim(token=token)
        registration = registration_get_by_token(token=token)
    if registration is None:
        resident_id = private_access_resident_id(session=session, token=token)
        if resident_id is not None:
            registration = _link_holder(resident_id)
    return registration
