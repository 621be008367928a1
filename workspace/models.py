"""Models of the staff workspace: enrolment codes, and staff accounts seen from their sign-in."""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EnrolmentCodeQuerySet(models.QuerySet):
    def open(self, *, now=None):
        """Return the codes not used yet and not expired."""
        return self.filter(used_at__isnull=True, expires_at__gt=now or timezone.now())


class EnrolmentCode(models.Model):
    """
    A one-time code that lets one staff member enrol their first authenticator app.

    A station manager or an administrator issues it (the admin's staff sign-in list, or
    ``manage.py otp_enroll``) and hands it over in person; only its keyed hash is stored.
    It works once, for its user only, until it expires; a few wrong codes void it. Only a
    session that has proven it is shown the new app's secret.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrolment_codes",
        verbose_name=_("staff member"),
        help_text=_("The only user who can use this code."),
    )
    code_hash = models.CharField(
        _("code hash"),
        max_length=64,
        unique=True,
        help_text=_("Keyed hash of the code; the code itself is shown once and never stored."),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
        help_text=_("Manager or administrator who issued it; empty when issued on the server."),
    )
    issued_at = models.DateTimeField(
        _("issued at"), default=timezone.now, help_text=_("When the code was issued.")
    )
    expires_at = models.DateTimeField(
        _("expires at"), help_text=_("After this time the code no longer works.")
    )
    used_at = models.DateTimeField(
        _("used at"),
        null=True,
        blank=True,
        help_text=_("When the staff member proved the code; it never works again."),
    )
    failed_attempts = models.PositiveSmallIntegerField(
        _("wrong codes"),
        default=0,
        help_text=_("Wrong codes typed for this user while this code was open."),
    )

    objects = EnrolmentCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrolment code")
        verbose_name_plural = _("enrolment codes")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("issued_at")),
                name="enrolment_code_expires_after_issue",
            )
        ]
        indexes = [models.Index(fields=["user", "used_at"], name="enrolment_code_user_used")]

    def __str__(self):
        return f"{self.user} ({self.issued_at:%Y-%m-%d %H:%M})"


class StaffMember(User):
    """
    A staff account seen from its sign-in: authenticator app, recovery codes, open
    enrolment code. Who may see and reset whom follows station management
    (``workspace.selectors.staff_signin_for_user``), not model permissions.
    """

    class Meta:
        proxy = True
        verbose_name = _("staff sign-in")
        verbose_name_plural = _("staff sign-in")
        ordering = ["username"]
        default_permissions = ()
