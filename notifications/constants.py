"""Choices and codes of the notifications app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    """How a message reaches its recipient. A WeChat official-account channel fits here later."""

    EMAIL = "email", pgettext_lazy("message channel", "email")
    SMS = "sms", pgettext_lazy("message channel", "SMS")


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


# A message in one of these states is finished: its secrets are erased, delivery stops.
FINAL_STATUSES = (
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.CANCELLED,
    MessageStatus.SUPERSEDED,
    MessageStatus.POSSIBLY_SENT,
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
