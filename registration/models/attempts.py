"""A form attempt: the photos a visitor uploaded before sending the form."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedCharField
from registration.constants import PassportReadingStatus


class SubmissionAttempt(models.Model):
    """
    One filling-in of a form, kept server-side so uploaded photos survive a redisplayed form.

    Its random key lives only in the visitor's session (hashed here); photos uploaded during
    the attempt hang on it until the submission adopts them. Old attempts are deleted with
    their files.
    """

    key_hash = models.CharField(
        _("key hash"), max_length=64, unique=True, help_text=_("SHA-256 of the session's key.")
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("station"),
        help_text=_("Station of the form."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    # The machine-readable zone of the attempt's passport photo, read by a Celery task
    # (registration/mrz.py). The reading holds a passport number, so it is encrypted like one.
    passport_reading_status = models.CharField(
        _("passport reading"),
        max_length=10,
        choices=PassportReadingStatus.choices,
        blank=True,
        default=PassportReadingStatus.NONE,
        help_text=_("Whether the passport photo's machine-readable zone was read."),
    )
    passport_reading_document = models.ForeignKey(
        "Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("passport photo read"),
        help_text=_("The photo the reading belongs to; a replaced photo makes it stale."),
    )
    passport_reading = EncryptedCharField(
        _("passport reading result"),
        blank=True,
        help_text=_("The fields read and the notes for the resident (JSON, encrypted)."),
    )

    class Meta:
        verbose_name = _("submission attempt")
        verbose_name_plural = _("submission attempts")
        ordering = ["-created_at"]

    def __str__(self):
        return f"attempt {self.pk}"
