"""Whether WeChat is configured: everything WeChat does is off until it is."""

from django.conf import settings


def wechat_enabled() -> bool:
    """Return True when the official account's app id, secret and callback token are set."""
    return bool(settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET and settings.WECHAT_TOKEN)


def wechat_template(kind: str) -> str:
    """Return the template id for messages of ``kind`` (else the "default" one, else "")."""
    templates = settings.WECHAT_TEMPLATES or {}
    return templates.get(kind) or templates.get("default") or ""
