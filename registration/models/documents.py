"""A photo of a document, re-encoded and stored encrypted in private storage."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registration.constants import DocumentKind
from registration.models.attempts import SubmissionAttempt
from registration.models.registration import Registration


class Document(models.Model):
    """
    A photo of a document (passport page, visa, entry stamp, lease), re-encoded without
    metadata and stored encrypted under a random name in private storage.
    """

    public_id = models.UUIDField(
        _("public ID"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("Random identifier used in URLs."),
    )
    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("registration"),
        help_text=_("Registration the document belongs to."),
    )
    attempt = models.ForeignKey(
        SubmissionAttempt,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("submission attempt"),
        help_text=_("Form being filled in, until it is submitted."),
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=DocumentKind.choices, help_text=_("What the photo shows.")
    )
    file = models.FileField(
        _("file"),
        max_length=200,
        help_text=_("Encrypted JPEG under a random name in private storage."),
    )
    thumbnail = models.FileField(
        _("thumbnail"),
        max_length=200,
        blank=True,
        help_text=_(
            "Encrypted small JPEG of the photo, made once when it is stored, for the pages "
            "that show it small."
        ),
    )
    width = models.PositiveIntegerField(_("width"), default=0, help_text=_("Pixels."))
    height = models.PositiveIntegerField(_("height"), default=0, help_text=_("Pixels."))
    size = models.PositiveIntegerField(_("size"), default=0, help_text=_("Bytes of the JPEG."))
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("document photo")
        verbose_name_plural = _("document photos")
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(registration__isnull=False) | models.Q(attempt__isnull=False),
                name="document_has_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["registration", "kind"], name="document_registration_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.public_id})"
