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
    # Staff sign-in (workspace): the staff member concerned is the object of the entry.
    SIGNIN_CODE = "signin_code", _("issued an enrolment code")
    SIGNIN_RESET = "signin_reset", _("reset two-step verification")


# Version of the privacy notice residents read before they consent (PIPL arts. 17, 29).
# Bump it whenever the notice's wording changes; each consent records the version it saw.
PRIVACY_NOTICE_VERSION = "2026-11-25"
