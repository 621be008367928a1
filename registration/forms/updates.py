"""Forms of the updates through the private link, and of the lost-link page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from registration.constants import DocumentKind, ErrorCode
from registration.forms.fields import (
    ContactFieldsMixin,
    DateInput,
    HoneypotMixin,
    PhotoFieldsMixin,
    StayFieldsMixin,
    VisaFieldsMixin,
    _error,
)
from registration.forms.register import RegistrationForm


class MoveForm(HoneypotMixin, PhotoFieldsMixin, StayFieldsMixin):
    """A new address: the stay section again, pre-filled; a new registration in law."""

    consent = RegistrationForm.base_fields["consent"]
    photo_kinds = (DocumentKind.LEASE.value,)

    def __init__(self, *args, registration=None, **kwargs):
        self.registration = registration
        super().__init__(*args, **kwargs)

    def entry_date_for_checks(self):
        return self.registration.entry_date if self.registration else None

    def clean_consent(self):
        if not self.cleaned_data.get("consent"):
            raise _error(ErrorCode.CONSENT_REQUIRED)
        return True

    def service_data(self) -> dict:
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in ("consent", "website", *self.photo_kinds)
        }
        data["host_phone"] = data.get("host_phone") or ""
        return data


class VisaRenewForm(HoneypotMixin, PhotoFieldsMixin, VisaFieldsMixin):
    """A renewed visa or residence permit with a photo of it."""

    photo_kinds = (DocumentKind.VISA_PAGE.value,)
    required_photo_kinds = photo_kinds

    def __init__(self, *args, registration=None, **kwargs):
        self.registration = registration
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        until = cleaned.get("visa_valid_until")
        if until and self.registration and until <= self.registration.visa_valid_until:
            self.add_error("visa_valid_until", _error(ErrorCode.VALID_UNTIL_NOT_LATER))
        return cleaned


class TravelDocumentForm(HoneypotMixin, PhotoFieldsMixin):
    """A new travel document (new passport) with a photo of its information page."""

    document_type = RegistrationForm.base_fields["document_type"]
    document_number = RegistrationForm.base_fields["document_number"]
    document_expiry = RegistrationForm.base_fields["document_expiry"]
    photo_kinds = (DocumentKind.PASSPORT_PAGE.value,)
    required_photo_kinds = photo_kinds

    clean_document_number = RegistrationForm.clean_document_number
    clean_document_expiry = RegistrationForm.clean_document_expiry


class ContactForm(HoneypotMixin, ContactFieldsMixin):
    """How the resident is reached."""


class DepartureForm(HoneypotMixin):
    """ "I have left", with the date."""

    departed_on = forms.DateField(label=_("Date you left"), widget=DateInput())


class LostLinkForm(HoneypotMixin):
    """Reference number and travel-document number, to send the private link again."""

    reference = forms.CharField(
        label=_("Reference number"),
        max_length=20,
        help_text=_("On your receipt, for example SP-7K3M-9Q2X."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    document_number = forms.CharField(
        label=_("Travel document number"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
