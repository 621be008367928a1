"""Choices of the audit app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW = "view", _("viewed")
    DOCUMENT_VIEW = "document_view", _("viewed a document")
    EXPORT = "export", _("exported")
    DECISION = "decision", _("decided")
    MESSAGE = "message", _("sent a message")
