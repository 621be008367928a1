"""System checks of the WeChat settings (``manage.py check``): half a configuration, a
key of the wrong length, no template for the messages, a template entry Linli cannot use
or under a name no message has (``wechat.conf``: the two forms of ``WECHAT_TEMPLATES``);
with ``--deploy``, plaintext mode (bodies unsigned)."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from wechat.conf import TEMPLATE_KINDS, template_problems, wechat_enabled

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
    errors += _templates_check(settings.WECHAT_TEMPLATES)
    return errors


@register(deploy=True)
def wechat_safe_mode_check(app_configs=None, **kwargs):
    """In plaintext mode WeChat signs only the timestamp and nonce, never the message body:
    production should run the account in safe mode, which signs and encrypts the body."""
    if wechat_enabled() and not settings.WECHAT_ENCODING_AES_KEY:
        return [
            Warning(
                "WeChat is configured in plaintext mode: a callback's body is not signed "
                "(only its timestamp and nonce are).",
                hint="Choose 安全模式 (safe mode) in the account's server configuration and "
                "set WECHAT_ENCODING_AES_KEY (deploy/README.md, WeChat official account).",
                id="wechat.W004",
            )
        ]
    return []


def _templates_check(templates) -> list:
    from wechat.channel import MESSAGE_KINDS  # the channel imports the notifications app

    if not isinstance(templates, dict):
        hint = 'A JSON object, e.g. {"default": "<template id>"}.'
        return [Error("WECHAT_TEMPLATES is not a JSON object.", hint=hint, id="wechat.E002")]
    errors = []
    for name, value in templates.items():
        problems = template_problems(value)
        if problems:
            errors.append(
                Error(
                    f"WECHAT_TEMPLATES[{name!r}] cannot be used: {'; '.join(problems)}. "
                    "Its messages go by email or SMS.",
                    hint='A template id, or {"id": "<template id>", "fields": {"<field of the '
                    'template>": "<title|station|reference|text|time>"}} (README).',
                    id="wechat.E002",
                )
            )
        if name not in TEMPLATE_KINDS and name not in MESSAGE_KINDS:
            errors.append(
                Warning(
                    f"WECHAT_TEMPLATES[{name!r}] is no kind of message Linli sends in WeChat.",
                    hint=f"Kinds: {', '.join(TEMPLATE_KINDS)}, or a template name such as "
                    '"registration/visa_expiring".',
                    id="wechat.W003",
                )
            )
    return errors
