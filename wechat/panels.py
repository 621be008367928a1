"""
What the resident's private page shows about WeChat (a panel of
``REGISTRATION_PRIVATE_PANELS``, so ``registration`` never imports ``wechat``).

- Linked: says so, with the one-tap "Unlink" button (in any browser).
- Not linked, the page opened inside WeChat (its in-app browser says ``MicroMessenger`` in
  its user agent): the offer to link, until the resident links or says "Not now" — the
  answer is remembered in this browser's session, per resident.
- Otherwise, or while WeChat is not configured: nothing.
"""

from wechat.conf import wechat_enabled
from wechat.selectors import binding_for_resident

DISMISSED_SESSION_KEY = "wechat_prompt_dismissed"
TEMPLATE = "wechat/private_panel.html"


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
        return {"template": TEMPLATE, "bound": False, "token": token}
    return None
