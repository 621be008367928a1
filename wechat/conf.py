"""
Whether WeChat is configured, and what ``WECHAT_TEMPLATES`` says: everything WeChat does is
off until it is configured.

``WECHAT_TEMPLATES`` maps a kind of message ("receipt", "reminder", "reply", "decision",
"default", or an outbox template name such as "registration/visa_expiring") to a template,
in one of two forms:

- a template id: ``"receipt": "TEMPLATE_ID"`` — a template with WeChat's classic fields
  ``first``, ``keyword1``, ``keyword2``, ``remark`` (``LEGACY_FIELDS``);
- ``"receipt": {"id": "TEMPLATE_ID", "fields": {"thing1": "title", "character_string2":
  "reference"}}`` — the template's own field names, each given one of Linli's values
  (``TEMPLATE_VALUES``): the category templates (类目模板) WeChat offers since 2023 name their
  fields by type and number, and no longer show ``first`` and ``remark``.

An entry that is neither is ignored when sending (the message goes by email or SMS, with
the reason in the outbox) and reported by ``manage.py check`` (``wechat.checks``).
"""

import re
from dataclasses import dataclass, field

from django.conf import settings

# What Linli can put into a template field: the message's subject, the station's name, the
# registration's reference number, the message's short text (a reply: the reply itself),
# and the time it is sent (the installation's time zone, "2026-11-30 14:05").
TEMPLATE_VALUES = ("title", "station", "reference", "text", "time")
LEGACY_FIELDS = {"first": "title", "keyword1": "station", "keyword2": "reference", "remark": "text"}
TEMPLATE_KINDS = ("receipt", "reminder", "reply", "decision", "default")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")  # thing1, character_string2, time3


@dataclass(frozen=True)
class WeChatTemplate:
    """A template to send: its id and the value of each of its fields."""

    id: str
    fields: dict[str, str] = field(default_factory=lambda: dict(LEGACY_FIELDS))


def wechat_enabled() -> bool:
    """Return True when the official account's app id, secret and callback token are set."""
    return bool(settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET and settings.WECHAT_TOKEN)


def template_problems(value) -> list[str]:
    """Return what is wrong with one entry of ``WECHAT_TEMPLATES`` (nothing: usable)."""
    if isinstance(value, str):
        return [] if value.strip() else ["the template id is empty"]
    if not isinstance(value, dict):
        return ['neither a template id nor {"id": …, "fields": {…}}']
    problems = []
    if not isinstance(value.get("id"), str) or not value["id"].strip():
        problems.append('"id" is not a template id')
    unknown = set(value) - {"id", "fields"}
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    fields = value.get("fields", LEGACY_FIELDS)
    if not isinstance(fields, dict) or not fields:
        return [*problems, '"fields" is not a non-empty object']
    for name, source in fields.items():
        if not isinstance(name, str) or not _FIELD_NAME.match(name):
            problems.append(f"{name!r} is not a WeChat field name")
        if source not in TEMPLATE_VALUES:
            problems.append(f"{name!r}: {source!r} is none of {', '.join(TEMPLATE_VALUES)}")
    return problems


def wechat_template(*names: str) -> WeChatTemplate | None:
    """
    Return the template of the first of ``names`` (template name, kind, "default") that
    ``WECHAT_TEMPLATES`` sets; None when none is set, or the one set is not usable (rather
    than another kind's template).
    """
    templates = settings.WECHAT_TEMPLATES or {}
    for name in names:
        value = templates.get(name) if name else None
        if value is None or value == "":
            continue
        if template_problems(value):
            return None
        if isinstance(value, str):
            return WeChatTemplate(id=value.strip())
        fields = dict(value.get("fields", LEGACY_FIELDS))
        return WeChatTemplate(id=value["id"].strip(), fields=fields)
    return None
