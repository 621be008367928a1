"""An amendment: one step in a registration's life, its timeline."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registration.constants import AmendmentKind, RegistrationStatus
from registration.models.registration import Registration


class Amendment(models.Model):
    """One step in a registration's life, shown to the resident and staff as its timeline."""

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="amendments",
        verbose_name=_("registration"),
        help_text=_("Registration changed."),
    )
    kind = models.CharField(
        _("kind"), max_length=24, choices=AmendmentKind.choices, help_text=_("What happened.")
    )
    status_before = models.CharField(
        _("status before"),
        max_length=24,
        choices=RegistrationStatus.choices,
        blank=True,
        help_text=_("Status before the change."),
    )
    status_after = models.CharField(
        _("status after"),
        max_length=24,
        choices=RegistrationStatus.choices,
        blank=True,
        help_text=_("Status after the change."),
    )
    message = models.TextField(
        _("message"), blank=True, help_text=_("Message from staff to the resident, if any.")
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
        help_text=_("Staff member who made the change; empty when the resident did."),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("update")
        verbose_name_plural = _("updates")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["registration", "created_at"], name="amendment_timeline")]

    def __str__(self):
        return f"{self.registration_id} {self.kind}"
