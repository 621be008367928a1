"""
Residents, their residence registrations, the documents photographed for them, and every
update made to them.

A **resident** is the person (identity, travel document, contact, language). A
**registration** is one stay at one address under one visa or permit, at one station; a new
address is a new registration in law. Every change of either is kept as history
(django-simple-history: who, when, what) and, for the resident's timeline, as an
**amendment**. Travel-document and visa numbers are encrypted at rest and searched through
a keyed hash (blind index); document photos are stored encrypted under random names.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from core.fields import EncryptedCharField
from core.languages import language_choices
from notifications.constants import Channel
from registration.constants import (
    ACTIVE_STATUSES,
    AccommodationType,
    AmendmentKind,
    DocumentKind,
    DocumentType,
    EndReason,
    PassportReadingStatus,
    RegistrationStatus,
    Sex,
    StayReason,
    VisaType,
)


class Resident(models.Model):
    """
    A foreign resident: identity, travel document and how to reach them, as given with one
    registration (docs/identity.md).

    A public form always creates a new resident: it never changes an existing one, whatever
    travel-document number it carries. The registrations that follow through the private
    link share their resident. Another resident with the same nationality and document
    number (blind index) is only a suggestion, until staff confirm it as the same person
    (``same_person_as``); nothing is copied between the two records.
    """

    surname = models.CharField(
        _("surname"), max_length=100, help_text=_("Family name as printed in the passport.")
    )
    given_names = models.CharField(
        _("given names"),
        max_length=150,
        blank=True,
        help_text=_("Given names as printed in the passport."),
    )
    chinese_name = models.CharField(
        _("Chinese name"), max_length=50, blank=True, help_text=_("Chinese name, if any.")
    )
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, help_text=_("Sex."))
    date_of_birth = models.DateField(_("date of birth"), help_text=_("Date of birth."))
    nationality = CountryField(_("nationality"), help_text=_("Country or region of nationality."))

    document_type = models.CharField(
        _("travel document type"),
        max_length=20,
        choices=DocumentType.choices,
        default=DocumentType.PASSPORT,
        help_text=_("Kind of travel document."),
    )
    document_number = EncryptedCharField(
        _("travel document number"),
        max_length=30,
        help_text=_("Number of the travel document; stored encrypted."),
    )
    document_number_index = models.CharField(
        _("travel document number index"),
        max_length=64,
        editable=False,
        help_text=_("Keyed hash of the document number for exact search."),
    )
    document_expiry = models.DateField(
        _("travel document expiry"), help_text=_("Date the travel document expires.")
    )

    phone = PhoneNumberField(
        _("mobile phone"),
        region="CN",
        help_text=_("Mobile phone number; a Chinese number or any number with its country code."),
    )
    email = models.EmailField(
        _("email"), blank=True, help_text=_("Email address for messages about the stay.")
    )
    wechat_id = models.CharField(
        _("WeChat ID"), max_length=64, blank=True, help_text=_("WeChat ID, if any.")
    )
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=15,
        choices=language_choices,
        default=settings.LANGUAGE_CODE,
        help_text=_("Language of the messages the resident receives."),
    )
    preferred_channel = models.CharField(
        _("preferred channel"),
        max_length=10,
        choices=Channel.choices,
        default=Channel.EMAIL,
        help_text=_("How the resident prefers to receive messages."),
    )
    contact_consent = models.BooleanField(
        _("agrees to be contacted"),
        default=False,
        help_text=_("The station may contact the resident, e.g. in check-in rounds."),
    )
    anonymised_at = models.DateTimeField(
        _("anonymised"),
        null=True,
        blank=True,
        help_text=_("When the personal data was erased; the row stays for statistics."),
    )
    # Staff-confirmed identity: every record of one person points at the same first record
    # (never a chain), so the whole group is one indexed lookup.
    same_person_as = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="confirmed_same_person",
        verbose_name=_("same person as"),
        help_text=_(
            "The first record of this person, as confirmed by staff; nothing is copied "
            "between the records."
        ),
    )
    same_person_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("same person confirmed by"),
        help_text=_("Staff member who confirmed that the records are one person."),
    )
    same_person_confirmed_at = models.DateTimeField(
        _("same person confirmed"),
        null=True,
        blank=True,
        help_text=_("When staff confirmed that the records are one person."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(
        verbose_name=_("historical resident"), excluded_fields=["updated_at"]
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["surname", "given_names", "pk"]
        constraints = [
            # No unique document number: a stranger may type anyone's (docs/identity.md).
            models.CheckConstraint(
                condition=~models.Q(same_person_as=models.F("id")),
                name="resident_not_same_person_as_self",
            ),
        ]
        indexes = [
            models.Index(fields=["document_number_index"], name="resident_document_index"),
            models.Index(fields=["phone"], name="resident_phone"),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.surname.upper(), self.given_names) if part)

    @property
    def person_id(self) -> int:
        """Return the id shared by every record staff confirmed to be this person."""
        return self.same_person_as_id or self.pk


class RegistrationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)


class Registration(models.Model):
    """One stay of a resident at one address, under one visa or permit, at one station."""

    reference = models.CharField(
        _("reference number"),
        max_length=16,
        unique=True,
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
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text=_("SHA-256 of the private link's token; the token itself is never stored."),
    )
    pending_token_hash = models.CharField(
        _("lost-link hash"),
        max_length=64,
        unique=True,
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
            models.CheckConstraint(
                condition=models.Q(status__in=RegistrationStatus.values),
                name="registration_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(visa_valid_until__gt=models.F("entry_date")),
                name="registration_visa_after_entry",
            ),
        ]
        indexes = [
            models.Index(fields=["station", "status"], name="registration_station_status"),
            models.Index(fields=["status", "visa_valid_until"], name="registration_status_visa"),
            models.Index(
                fields=["status", "status_changed_at"], name="registration_status_changed"
            ),
            models.Index(
                fields=["status", "expected_departure"], name="registration_status_departure"
            ),
            models.Index(fields=["status", "arrival_at"], name="registration_status_arrival"),
            models.Index(fields=["visa_number_index"], name="registration_visa_index"),
            # The admin list's default order, for a city and for one station, and the
            # waiting queues' deadline order: read from the index, never a sort of the table.
            models.Index(fields=["-submitted_at", "-id"], name="registration_submitted_desc"),
            models.Index(
                fields=["station", "-submitted_at", "-id"], name="registration_station_recent"
            ),
            models.Index(fields=["status", "deadline_at"], name="registration_status_deadline"),
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
