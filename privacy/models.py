"""The audit trail of staff work with personal data."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.constants import AuditAction


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit entries are never changed.")


class AuditEntry(models.Model):
    """
    One thing a staff member did with personal data: viewed a record or a document,
    exported a list, or took a decision.

    Entries are written once and never changed; only the retention rule deletes them.
    """

    at = models.DateTimeField(_("time"), default=timezone.now, help_text=_("When it happened."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("user"),
        help_text=_("Staff member who did it."),
    )
    username = models.CharField(
        _("user name"),
        max_length=150,
        help_text=_("User name at the time, kept if the account is deleted."),
    )
    action = models.CharField(
        _("action"), max_length=20, choices=AuditAction.choices, help_text=_("What was done.")
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("station"),
        help_text=_("Station whose data it concerned."),
    )
    object_type = models.ForeignKey(
        ContentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("object type"),
        help_text=_("Kind of record concerned."),
    )
    object_id = models.CharField(
        _("object ID"), max_length=64, blank=True, help_text=_("Key of the record concerned.")
    )
    object_repr = models.CharField(
        _("object"), max_length=200, blank=True, help_text=_("The record, as it was named then.")
    )
    detail = models.CharField(
        _("detail"),
        max_length=500,
        blank=True,
        help_text=_("What exactly: the document, the decision, the filters of an export."),
    )

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        permissions = [
            (
                "export_document_numbers",
                _("Can export travel-document and visa numbers"),
            )
        ]
        indexes = [
            models.Index(fields=["station", "-at"], name="audit_station_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["at"], name="audit_time"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Audit entries are never changed.")
        super().save(*args, **kwargs)
