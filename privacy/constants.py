"""Choices and versions of the privacy app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW = "view", _("viewed")
    DOCUMENT_VIEW = "document_view", _("viewed a document")
    EXPORT = "export", _("exported")
    DECISION = "decision", _("decided")
    MESSAGE = "message", _("sent a message")
    ERASE = "erase", _("erased personal data")


# Version of the privacy notice residents read before they consent (PIPL arts. 17, 29).
# Bump it whenever the notice's wording changes; each consent records the version it saw.
PRIVACY_NOTICE_VERSION = "2026-11-25"
