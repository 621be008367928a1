"""The registration form: the whole registration, as a resident fills it in."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from registration.constants import (
    REQUIRED_DOCUMENT_KINDS,
    DocumentKind,
    DocumentType,
    ErrorCode,
    Sex,
)
from registration.forms.fields import (
    ContactFieldsMixin,
    CountrySelect,
    DateInput,
    HoneypotMixin,
    PhotoFieldsMixin,
    StayFieldsMixin,
    VisaFieldsMixin,
    _country_choices,
    _error,
    clean_document_number,
)

MAX_AGE_YEARS = 120


class RegistrationForm(
    HoneypotMixin, PhotoFieldsMixin, ContactFieldsMixin, StayFieldsMixin, VisaFieldsMixin
):
    """The whole registration: identity · document · visa · stay · contact · photos · consent."""

    surname = forms.CharField(
        label=_("Surname"),
        max_length=100,
        help_text=_("As printed in your passport."),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    given_names = forms.CharField(
        label=_("Given names"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    chinese_name = forms.CharField(label=_("Chinese name (if any)"), max_length=50, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput())
    nationality = forms.ChoiceField(
        label=_("Nationality"), choices=_country_choices, widget=CountrySelect
    )

    document_type = forms.ChoiceField(
        label=_("Type of travel document"), choices=DocumentType.choices
    )
    document_number = forms.CharField(
        label=_("Travel document number"),
        max_length=30,
        help_text=_("Letters and digits only, as printed."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    document_expiry = forms.DateField(label=_("Travel document expiry date"), widget=DateInput())

    entry_date = forms.DateField(label=_("Date of entry into China"), widget=DateInput())
    port_of_entry = forms.CharField(
        label=_("Port of entry (if known)"), max_length=100, required=False
    )

    consent = forms.BooleanField(
        label=_(
            "I agree that the station processes the sensitive personal information in this "
            "form (travel document, visa, photos) to register my stay, as explained in the "
            "privacy notice."
        ),
        required=False,
    )

    photo_kinds = tuple(DocumentKind.values)
    required_photo_kinds = tuple(REQUIRED_DOCUMENT_KINDS)

    SECTIONS = (
        (
            "identity",
            pgettext_lazy("form section", "Identity"),
            ("surname", "given_names", "chinese_name", "sex", "date_of_birth", "nationality"),
        ),
        (
            "document",
            pgettext_lazy("form section", "Travel document"),
            ("document_type", "document_number", "document_expiry"),
        ),
        (
            "visa",
            pgettext_lazy("form section", "Visa or residence permit"),
            ("visa_type", "visa_number", "visa_valid_until", "entry_date", "port_of_entry"),
        ),
        (
            "stay",
            pgettext_lazy("form section", "Your stay"),
            (
                "arrival_at",
                "expected_departure",
                "stay_reason",
                "school_or_employer",
                "address",
                "accommodation_type",
                "host_name",
                "host_phone",
            ),
        ),
        (
            "contact",
            pgettext_lazy("form section", "Contact"),
            (
                "phone",
                "email",
                "wechat_id",
                "preferred_language",
                "preferred_channel",
                "contact_consent",
            ),
        ),
        (
            "photos",
            pgettext_lazy("form section", "Photos of your documents"),
            ("passport_page", "visa_page", "entry_stamp", "lease"),
        ),
        ("consent", pgettext_lazy("form section", "Consent"), ("consent",)),
    )

    def clean_document_number(self):
        return clean_document_number(self.cleaned_data.get("document_number"))

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if value >= today:
            raise _error(ErrorCode.BIRTH_DATE_FUTURE)
        if value.year < today.year - MAX_AGE_YEARS:
            raise _error(ErrorCode.BIRTH_DATE_IMPLAUSIBLE)
        return value

    def clean_document_expiry(self):
        value = self.cleaned_data["document_expiry"]
        if value < timezone.localdate():
            raise _error(ErrorCode.DOCUMENT_EXPIRED)
        return value

    def clean_entry_date(self):
        value = self.cleaned_data["entry_date"]
        if value > timezone.localdate():
            raise _error(ErrorCode.ENTRY_FUTURE)
        return value

    def clean_consent(self):
        if not self.cleaned_data.get("consent"):
            raise _error(ErrorCode.CONSENT_REQUIRED)
        return True

    def clean(self):
        cleaned = super().clean()
        entry, until = cleaned.get("entry_date"), cleaned.get("visa_valid_until")
        if entry and until and until <= entry:
            self.add_error("visa_valid_until", _error(ErrorCode.VISA_BEFORE_ENTRY))
        return cleaned

    def sections(self):
        """Return ``(id, title, [bound fields])`` in the order of the form."""
        return [
            (key, title, [self[name] for name in names if name in self.fields])
            for key, title, names in self.SECTIONS
        ]

    def review_sections(self):
        """Return ``(title, [(label, value)])`` of what the resident is about to send."""
        sections = []
        for key, title, names in self.SECTIONS:
            if key in ("photos", "consent"):
                continue
            rows = []
            for name in names:
                field = self.fields[name]
                value = self.cleaned_data.get(name)
                if isinstance(field, forms.BooleanField):
                    value = gettext("yes") if value else gettext("no")
                elif isinstance(field, forms.ChoiceField):
                    value = dict(field.choices).get(value, value)
                if value in (None, ""):
                    value = "—"
                rows.append((field.label, value))
            sections.append((title, rows))
        return sections

    def service_data(self) -> dict:
        """Return the cleaned data as the services expect it."""
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in ("consent", "website", *self.photo_kinds)
        }
        data["host_phone"] = data.get("host_phone") or ""
        data["contact_consent"] = bool(data.get("contact_consent"))
        return data
