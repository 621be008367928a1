"""The resident: identity, travel document and contact, as given with one registration."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from core.fields import EncryptedCharField
from core.languages import language_choices
from notifications.constants import RESIDENT_CHANNEL_CHOICES, Channel
from registration.constants import DocumentType, Sex


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
        choices=RESIDENT_CHANNEL_CHOICES,
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
