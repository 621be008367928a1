"""
What the resident's private page and the station page show about WeChat (panels of
``REGISTRATION_PRIVATE_PANELS`` and ``STATION_PAGE_PANELS``, so neither app imports
``wechat``).

The private page:

- Linked: says so, with the one-tap "Unlink" button (in any browser).
- Not linked, the page opened inside WeChat (its in-app browser says ``MicroMessenger`` in
  its user agent): the offer to link, until the resident links or says "Not now" — the
  answer is remembered in this browser's session, per resident.
- Otherwise, or while WeChat is not configured: nothing.

The station page offers the same, in WeChat, only to a session that was shown the offer on
its private page in the last ``OFFER_SECONDS`` (the link is the proof, docs/identity.md;
the session keeps the resident's id, never the link). A visitor without a session gets the
page everybody gets (``stations.pages`` keeps it), with no offer.
"""

import time

from django.urls import reverse

from wechat.conf import wechat_enabled
from wechat.selectors import binding_for_resident, binding_for_resident_id

DISMISSED_SESSION_KEY = "wechat_prompt_dismissed"
OFFER_SESSION_KEY = "wechat_offer"
OFFER_SECONDS = 60 * 60
TEMPLATE = "wechat/private_panel.html"
STATION_TEMPLATE = "wechat/station_panel.html"


def in_wechat(request) -> bool:
    """Return whether the page is opened in WeChat's in-app browser."""
    return "MicroMessenger" in request.headers.get("User-Agent", "")


def prompt_dismiss(session, *, resident_id: int) -> None:
    """Remember in ``session`` that the resident said "Not now" to linking WeChat."""
    dismissed = list(session.get(DISMISSED_SESSION_KEY, []))
    if resident_id not in dismissed:
        session[DISMISSED_SESSION_KEY] = [*dismissed, resident_id][-20:]


def private_panel(*, request, registration, token: str) -> dict | None:
    """Return the WeChat panel of the private page of ``registration``, or ``None``."""
    if not wechat_enabled():
        return None
    if binding_for_resident(registration.resident) is not None:
        return {"template": TEMPLATE, "bound": True, "token": token}
    dismissed = registration.resident_id in request.session.get(DISMISSED_SESSION_KEY, [])
    if in_wechat(request) and not dismissed:
        request.session[OFFER_SESSION_KEY] = {
            "resident": registration.resident_id,
            "until": int(time.time()) + OFFER_SECONDS,
        }
        return {"template": TEMPLATE, "bound": False, "token": token, "first": True}
    return None


def offered_resident_id(session) -> int | None:
    """Return the resident this session's private page offered linking to, if still open."""
    offer = session.get(OFFER_SESSION_KEY)
    if not offer or offer.get("until", 0) < time.time():
        return None
    if offer.get("resident") in session.get(DISMISSED_SESSION_KEY, []):
        return None
    return offer.get("resident")


def station_panel(*, request, code: str) -> dict | None:
    """Return the WeChat offer of the station page ``code``, or ``None``."""
    if not wechat_enabled() or not in_wechat(request):
        return None
    resident_id = offered_resident_id(request.session)
    if resident_id is None or binding_for_resident_id(resident_id) is not None:
        return None
    return {"template": STATION_TEMPLATE, "next": reverse("stations:station", args=[code])}
