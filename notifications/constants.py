"""Choices and codes of the notifications app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    """
    How a message reaches its recipient. WeChat (the official account's template messages)
    reaches only a resident who linked WeChat (``wechat`` app); ``to`` is then
    ``resident:<id>``, never the openid, and a refusal falls back to email or SMS.
    """

    EMAIL = "email", pgettext_lazy("message channel", "email")
    SMS = "sms", pgettext_lazy("message channel", "SMS")
    WECHAT = "wechat", pgettext_lazy("message channel", "WeChat")


# What a resident chooses in a form: WeChat is not chosen there but comes with linking it.
RESIDENT_CHANNEL_CHOICES = [(Channel.EMAIL, Channel.EMAIL.label), (Channel.SMS, Channel.SMS.label)]
# Channels that buzz a phone: nothing is sent through them in the quiet hours.
QUIET_CHANNELS = (Channel.SMS, Channel.WECHAT)


# Staff without an email address read their notifications in the staff workspace
# (dashboard, "My notifications"); ``to`` is the user's id. Not a ``Channel``: residents
# choose from those, and this one is for staff only.
WORKSPACE_CHANNEL = "admin"
MESSAGE_CHANNEL_CHOICES = [
    *Channel.choices,
    (WORKSPACE_CHANNEL, pgettext_lazy("message channel", "staff workspace")),
]
MESSAGE_CHANNELS = [value for value, _label in MESSAGE_CHANNEL_CHOICES]


class MessageStatus(models.TextChoices):
    """
    Life of a message in the outbox: created → sending → sent, or failed, cancelled,
    superseded (a later message of its thread made it pointless) or possibly sent (its
    attempts kept being interrupted after they may have reached the recipient).
    """

    CREATED = "created", pgettext_lazy("message status", "waiting to be sent")
    SENDING = "sending", pgettext_lazy("message status", "sending")
    SENT = "sent", pgettext_lazy("message status", "sent")
    FAILED = "failed", pgettext_lazy("message status", "failed")
    CANCELLED = "cancelled", pgettext_lazy("message status", "cancelled")
    SUPERSEDED = "superseded", pgettext_lazy("message status", "no longer needed")
    POSSIBLY_SENT = "possibly_sent", pgettext_lazy("message status", "may have been sent")
    # Its channel refused it for good (WeChat: not followed, quota…): another message
    # (``fallback``) carries it through the resident's other channel.
    FELL_BACK = "fell_back", pgettext_lazy("message status", "sent another way")


# A message in one of these states is finished: its secrets are erased, delivery stops.
FINAL_STATUSES = (
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.CANCELLED,
    MessageStatus.SUPERSEDED,
    MessageStatus.POSSIBLY_SENT,
    MessageStatus.FELL_BACK,
)
# Staff may send these again ("send again" in the admin).
RETRYABLE_STATUSES = (MessageStatus.FAILED, MessageStatus.CANCELLED, MessageStatus.POSSIBLY_SENT)
# A message in one of these states may still reach its recipient: later messages of its
# thread wait for it.
UNDELIVERED_STATUSES = (MessageStatus.CREATED, MessageStatus.SENDING)

# Context keys starting with this prefix (e.g. ``secret_link``) are erased once the message
# is finished, so that private links do not stay readable in the outbox.
SECRET_PREFIX = "secret_"  # noqa: S105 (a key prefix, not a secret)
SECRET_MASK = "••••••"  # noqa: S105


class ErrorCode(models.TextChoices):
    """Stable codes of errors raised by the notification services."""

    NOT_RETRYABLE = (
        "not_retryable",
        _("Only failed, cancelled or possibly sent messages can be sent again."),
    )
    NOT_CANCELLABLE = "not_cancellable", _("Only messages waiting to be sent can be cancelled.")


class RefusalReason(models.TextChoices):
    """
    Why a channel would not take a message, for staff. ``last_error`` starts with the code
    and a colon (``"wechat_not_following: WeChat error 43004: …"``); the outbox shows the
    label in the reader's language (``refusal_explain``).
    """

    WECHAT_OFF = "wechat_off", _("WeChat is not configured.")
    WECHAT_UNLINKED = "wechat_unlinked", _("The resident no longer links WeChat.")
    WECHAT_NO_TEMPLATE = (
        "wechat_no_template",
        _("No WeChat template is set for this kind of message (WECHAT_TEMPLATES)."),
    )
    WECHAT_NOT_FOLLOWING = (
        "wechat_not_following",
        _("The resident does not follow the official account (WeChat 43004)."),
    )
    WECHAT_UNKNOWN_USER = (
        "wechat_unknown_user",
        _("WeChat refused the resident's account: blocked, or not of this account (40003)."),
    )
    WECHAT_QUOTA = "wechat_quota", _("The official account's daily quota is used up (45009).")
    WECHAT_TOKEN = (
        "wechat_token",
        _("WeChat refused the access token, even a new one (40001, 42001)."),
    )
    WECHAT_REFUSED = "wechat_refused", _("WeChat refused the message.")
    WECHAT_UNREACHABLE = "wechat_unreachable", _("WeChat could not be reached.")


def refusal_explain(last_error: str) -> str:
    """Return ``last_error`` with its refusal code (if any) in the reader's language."""
    parts = (last_error or "").split(": ")
    for index, part in enumerate(parts[:3]):  # after the exception's name, if any
        if part in RefusalReason.values:
            return f"{RefusalReason(part).label} ({': '.join(parts[index + 1 :])})"
    return last_error or ""
