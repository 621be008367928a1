"""A registration: one stay at one address, under one visa or permit, at one station."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from core.fields import EncryptedCharField
from core.languages import language_choices
from registration.constants import (
    ACTIVE_STATUSES,
    AccommodationType,
    EndReason,
    RegistrationSource,
    RegistrationStatus,
    StayReason,
    VisaType,
)
from registration.models.resident import Resident


class RegistrationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)


class Registration(models.Model):
    """One stay of a resident at one address, under one visa or permit, at one station."""

    reference = models.CharField(
        _("reference number"),
        max_length=16,
        # Unique through Meta.constraints, not unique=True (which adds a second, LIKE index
        # on PostgreSQL that no query uses: every lookup is exact; search is "contains").
        editable=False,
        help_text=_("Short reference such as SP-7K3M-9Q2X, for the resident and staff."),
    )
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("resident"),
        help_text=_("The person staying."),
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        db_index=False,  # registration_station_status (station, status) serves it
        related_name="registrations",
        verbose_name=_("station"),
        help_text=_("Station responsible for the address."),
    )
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.SUBMITTED,
        help_text=_("Where the registration stands; changed only through the review actions."),
    )
    status_changed_at = models.DateTimeField(
        _("status changed"), default=timezone.now, help_text=_("When the status last changed.")
    )
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next_registrations",
        verbose_name=_("previous registration"),
        help_text=_("The registration this one follows (the previous address)."),
    )
    token_hash = models.CharField(
        _("private link hash"),
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text=_("SHA-256 of the private link's token; the token itself is never stored."),
    )
    pending_token_hash = models.CharField(
        _("lost-link hash"),
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "SHA-256 of a link sent by the lost-link form: it becomes the private link when "
            "first opened; until then the old link keeps working."
        ),
    )

    # Visa or residence permit
    visa_type = models.CharField(
        _("visa or permit type"),
        max_length=20,
        choices=VisaType.choices,
        help_text=_("Type of visa or residence permit."),
    )
    visa_number = EncryptedCharField(
        _("visa or permit number"),
        max_length=30,
        blank=True,
        help_text=_("Number of the visa or permit; stored encrypted."),
    )
    visa_number_index = models.CharField(
        _("visa number index"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("Keyed hash of the visa number for exact search."),
    )
    visa_valid_until = models.DateField(
        _("valid until"), help_text=_("Last day the visa or permit allows the stay.")
    )
    entry_date = models.DateField(_("date of entry into China"), help_text=_("Date of entry."))
    port_of_entry = models.CharField(
        _("port of entry"), max_length=100, blank=True, help_text=_("Port of entry, if known.")
    )

    # The stay
    arrival_at = models.DateTimeField(
        _("arrival at this address"), help_text=_("Date and time of arrival at this address.")
    )
    deadline_at = models.DateTimeField(
        _("registration deadline"),
        editable=False,
        help_text=_("Arrival plus 24 hours: the time by which the stay must be registered."),
    )
    expected_departure = models.DateField(
        _("expected departure date"), help_text=_("Date the resident expects to leave.")
    )
    stay_reason = models.CharField(
        _("reason for stay"),
        max_length=12,
        choices=StayReason.choices,
        help_text=_("Main reason for the stay."),
    )
    school_or_employer = models.CharField(
        _("school or employer"), max_length=200, blank=True, help_text=_("If any.")
    )
    address = models.TextField(
        _("address"), help_text=_("Building, unit and room in the station's area.")
    )
    accommodation_type = models.CharField(
        _("type of accommodation"),
        max_length=12,
        choices=AccommodationType.choices,
        help_text=_("How the resident lives at the address."),
    )
    host_name = models.CharField(
        _("host or landlord"), max_length=150, help_text=_("Name of the host or landlord.")
    )
    host_phone = PhoneNumberField(
        _("phone of host or landlord"),
        region="CN",
        blank=True,
        help_text=_("Phone number of the host or landlord."),
    )

    # Consent (PIPL art. 29)
    consent_notice_version = models.CharField(
        _("consent notice version"),
        max_length=20,
        help_text=_("Version of the privacy notice and consent text agreed to."),
    )
    consent_given_at = models.DateTimeField(
        _("consent given"), help_text=_("When the resident gave consent.")
    )
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consent recorded by"),
        help_text=_("Staff member who recorded the consent at the counter."),
    )
    source = models.CharField(
        _("registered through"),
        max_length=10,
        choices=RegistrationSource.choices,
        default=RegistrationSource.FORM,
        help_text=_("The public form, or staff at the counter."),
    )
    language = models.CharField(
        _("form language"),
        max_length=15,
        choices=language_choices,
        default=settings.LANGUAGE_CODE,
        help_text=_("Language the form was filled in."),
    )

    # Review
    submitted_at = models.DateTimeField(
        _("submitted"), default=timezone.now, help_text=_("When the resident submitted.")
    )
    decided_at = models.DateTimeField(
        _("decided"), null=True, blank=True, help_text=_("When staff last decided.")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
        help_text=_("Staff member who last decided."),
    )
    staff_message = models.TextField(
        _("message to the resident"),
        blank=True,
        help_text=_("What staff last asked or told the resident (correction, rejection)."),
    )
    end_reason = models.CharField(
        _("end reason"),
        max_length=16,
        choices=EndReason.choices,
        blank=True,
        help_text=_("Why the registration ended."),
    )
    ended_at = models.DateTimeField(
        _("ended"), null=True, blank=True, help_text=_("When the registration ended.")
    )
    departed_on = models.DateField(
        _("left on"), null=True, blank=True, help_text=_("Date the resident left, if known.")
    )
    deletion_requested_at = models.DateTimeField(
        _("deletion requested"),
        null=True,
        blank=True,
        help_text=_("When the resident asked for their personal data to be deleted."),
    )
    anonymised_at = models.DateTimeField(
        _("anonymised"),
        null=True,
        blank=True,
        help_text=_("When the personal data was erased; the row stays for statistics."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RegistrationQuerySet.as_manager()
    history = HistoricalRecords(
        verbose_name=_("historical registration"),
        excluded_fields=["updated_at", "token_hash", "pending_token_hash"],
    )

    class Meta:
        verbose_name = _("residence registration")
        verbose_name_plural = _("residence registrations")
        ordering = ["-submitted_at", "-pk"]
        permissions = [
            ("review_registration", _("Can review registrations (mark registered, reject)")),
        ]
        constraints = [
            # Unique keys as constraints: one exact-match index each (unique=True would add a
            # LIKE index each on PostgreSQL, written on every save and read by no query).
            models.UniqueConstraint(fields=["reference"], name="registration_reference_unique"),
            models.UniqueConstraint(fields=["token_hash"], name="registration_token_hash_unique"),
            models.UniqueConstraint(
                fields=["pending_token_hash"], name="registration_pending_token_hash_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RegistrationStatus.values),
                name="registration_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(visa_valid_until__gt=models.F("entry_date")),
                name="registration_visa_after_entry",
            ),
        ]
        # The rules and queues that read a visa's end, a departure or a deadline ask only for
        # active registrations: ended ones (most of an archive) stay out of those indexes,
        # and ending a registration writes three index entries fewer.
        indexes = [
            models.Index(fields=["station", "status"], name="registration_station_status"),
            models.Index(
                fields=["status", "visa_valid_until"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="registration_status_visa",
            ),
            models.Index(
                fields=["status", "status_changed_at"], name="registration_status_changed"
            ),
            models.Index(
                fields=["status", "expected_departure"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="registration_status_departure",
            ),
            models.Index(fields=["status", "arrival_at"], name="registration_status_arrival"),
            models.Index(fields=["visa_number_index"], name="registration_visa_index"),
            # The admin list's default order, for a city and for one station, and the
            # waiting queues' deadline order: read from the index, never a sort of the table.
            models.Index(fields=["-submitted_at", "-id"], name="registration_submitted_desc"),
            models.Index(
                fields=["station", "-submitted_at", "-id"], name="registration_station_recent"
            ),
            models.Index(
                fields=["status", "deadline_at"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="registration_status_deadline",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Return whether the 24-hour deadline passed before the resident submitted."""
        return self.submitted_at > self.deadline_at
