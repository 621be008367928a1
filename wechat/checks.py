"""System checks of the WeChat settings (``manage.py check``): half a configuration, a
key of the wrong length, no template for the messages."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from wechat.conf import wechat_enabled

REQUIRED = ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TOKEN")


@register()
def wechat_settings_check(app_configs=None, **kwargs):
    errors = []
    given = [name for name in REQUIRED if getattr(settings, name)]
    if given and len(given) < len(REQUIRED):
        missing = ", ".join(name for name in REQUIRED if name not in given)
        errors.append(
            Warning(
                f"WeChat is half configured: {missing} empty, so WeChat stays off.",
                hint="Set all three, or none.",
                id="wechat.W001",
            )
        )
    key = settings.WECHAT_ENCODING_AES_KEY
    if key and len(key) != 43:
        errors.append(
            Error(
                f"WECHAT_ENCODING_AES_KEY has {len(key)} characters; WeChat's has 43.",
                hint="Copy the EncodingAESKey from the account's server configuration.",
                id="wechat.E001",
            )
        )
    if wechat_enabled() and not settings.WECHAT_TEMPLATES:
        errors.append(
            Warning(
                "WECHAT_TEMPLATES is empty: every message to a resident who linked WeChat "
                "goes by email or SMS instead.",
                hint='Set it, e.g. WECHAT_TEMPLATES=\'{"default": "<template id>"}\'.',
                id="wechat.W002",
            )
        )
    return errors
