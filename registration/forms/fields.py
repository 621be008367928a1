"""
What the registration forms share: widgets, choices, the rules of a document number and a
phone number, and the field groups (contact, stay, visa, photos, honeypot).

Every rule raises a ValidationError with a code from ``constants.ErrorCode``; messages are
translated and shown next to their field.
"""

import datetime
import functools
import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from phonenumber_field.phonenumber import to_python as phone_to_python

from core.collation import collation_key
from core.languages import local_language_choices
from notifications.constants import RESIDENT_CHANNEL_CHOICES, Channel
from registration.constants import AccommodationType, DocumentKind, ErrorCode, StayReason, VisaType

DOCUMENT_NUMBER_RE = re.compile(r"^[A-Z0-9]+$")
# Phones' clocks drift: a time of arrival a few minutes "in the future" is not a mistake.
CLOCK_TOLERANCE = datetime.timedelta(minutes=10)


def _error(code: ErrorCode, **params) -> ValidationError:
    return ValidationError(code.label, code=code.value, params=params or None)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


@functools.cache
def _countries_sorted(language: str) -> tuple[tuple[str, str], ...]:
    # The names and their order depend only on the language (and the settings, fixed for a
    # process): sorted once per process and language, not at each of a form's renderings.
    with translation.override(language):
        named = [(code, str(name)) for code, name in countries]
    return tuple(sorted(named, key=lambda country: collation_key(country[1], language)))


def _country_choices():
    # Evaluated at each rendering: country names in the visitor's language, in the order a
    # reader of that language expects (django-countries sorts by code point without pyuca).
    return [("", "—"), *_countries_sorted(get_language() or settings.LANGUAGE_CODE)]


def _language_choices():
    # Each language named in itself: a resident finds their own even if they read no other.
    return local_language_choices()


def _with_blank(choices):
    return [("", "—"), *choices]


def clean_document_number(value: str) -> str:
    """Return ``value`` upper-cased; letters and digits only (code ``document_number_format``)."""
    value = (value or "").strip().upper()
    if value and not DOCUMENT_NUMBER_RE.match(value):
        raise _error(ErrorCode.DOCUMENT_NUMBER_FORMAT)
    return value


def clean_phone(value: str, *, required: bool = True):
    """Return a valid PhoneNumber (default region CN), or raise code ``phone_invalid``."""
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationError(forms.Field.default_error_messages["required"], code="required")
        return ""
    number = phone_to_python(value, region="CN")
    if number is None or not getattr(number, "is_valid", lambda: False)():
        raise _error(ErrorCode.PHONE_INVALID)
    return number


class HoneypotMixin(forms.Form):
    """A field people never see or fill in; bots that fill every field give themselves away."""

    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise _error(ErrorCode.HONEYPOT)
        return ""


class PhotoFieldsMixin(forms.Form):
    """
    Photo fields whose files are handled by the view before validation (sanitised and kept
    with the submission attempt); the form only checks that the required ones exist.
    """

    photo_kinds: tuple[str, ...] = ()
    required_photo_kinds: tuple[str, ...] = ()

    def __init__(self, *args, photos_present=(), photo_errors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.photos_present = set(photos_present)
        self.photo_errors = photo_errors or {}
        for kind in self.photo_kinds:
            self.fields[kind] = forms.FileField(
                label=DocumentKind(kind).label,
                required=False,
                widget=forms.ClearableFileInput(
                    attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"}
                ),
            )

    def clean(self):
        cleaned = super().clean()
        for kind in self.photo_kinds:
            if kind in self.photo_errors:
                self.add_error(kind, self.photo_errors[kind])
            elif kind in self.required_photo_kinds and kind not in self.photos_present:
                self.add_error(kind, _error(ErrorCode.PHOTO_REQUIRED))
        return cleaned


class ContactFieldsMixin(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        help_text=_("A Chinese mobile number, or any number with its country code (+…)."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        help_text=_("Recommended: we send your receipt and reminders here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    wechat_id = forms.CharField(label=_("WeChat ID"), max_length=64, required=False)
    preferred_language = forms.ChoiceField(
        label=_("Language for messages"), choices=_language_choices
    )
    preferred_channel = forms.ChoiceField(
        label=_("Send messages by"),
        choices=RESIDENT_CHANNEL_CHOICES,
        initial=Channel.EMAIL,
        widget=forms.RadioSelect,
    )
    contact_consent = forms.BooleanField(
        label=_("The station may contact me, for example to ask whether I need help."),
        required=False,
    )

    def clean_phone(self):
        return clean_phone(self.cleaned_data.get("phone"))

    def clean(self):
        cleaned = super().clean()
        wants_email = cleaned.get("preferred_channel") == Channel.EMAIL
        if wants_email and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", _error(ErrorCode.EMAIL_REQUIRED_FOR_EMAIL))
        return cleaned


class StayFieldsMixin(forms.Form):
    arrival_at = forms.DateTimeField(
        label=_("Date and time of arrival at this address"),
        input_formats=DATETIME_INPUT_FORMATS,
        widget=DateTimeInput(),
    )
    expected_departure = forms.DateField(label=_("Expected departure date"), widget=DateInput())
    stay_reason = forms.ChoiceField(
        label=_("Reason for stay"), choices=_with_blank(StayReason.choices)
    )
    school_or_employer = forms.CharField(
        label=_("School or employer"), max_length=200, required=False
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
        help_text=_("Building, unit and room."),
    )
    accommodation_type = forms.ChoiceField(
        label=_("Type of accommodation"), choices=_with_blank(AccommodationType.choices)
    )
    host_name = forms.CharField(label=_("Host or landlord"), max_length=150)
    host_phone = forms.CharField(
        label=_("Phone of the host or landlord"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def __init__(self, *args, station=None, **kwargs):
        super().__init__(*args, **kwargs)
        text = station.text() if station is not None else None
        if text is not None and text.address_help:
            self.fields["address"].help_text = text.address_help

    def clean_host_phone(self):
        return clean_phone(self.cleaned_data.get("host_phone"), required=False)

    def entry_date_for_checks(self):
        return self.cleaned_data.get("entry_date")

    def clean(self):
        cleaned = super().clean()
        now = timezone.now()
        arrival = cleaned.get("arrival_at")
        entry = self.entry_date_for_checks()
        departure = cleaned.get("expected_departure")
        if arrival:
            if arrival > now + CLOCK_TOLERANCE:
                self.add_error("arrival_at", _error(ErrorCode.ARRIVAL_FUTURE))
            elif entry and timezone.localtime(arrival).date() < entry:
                self.add_error("arrival_at", _error(ErrorCode.ARRIVAL_BEFORE_ENTRY))
            if departure and departure <= timezone.localtime(arrival).date():
                self.add_error("expected_departure", _error(ErrorCode.DEPARTURE_BEFORE_ARRIVAL))
        return cleaned


class VisaFieldsMixin(forms.Form):
    visa_type = forms.ChoiceField(
        label=_("Type of visa or residence permit"), choices=_with_blank(VisaType.choices)
    )
    visa_number = forms.CharField(
        label=_("Visa or permit number"),
        max_length=30,
        required=False,
        help_text=_("Letters and digits only. Leave empty for visa-free entry."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    visa_valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())

    def clean_visa_number(self):
        return clean_document_number(self.cleaned_data.get("visa_number"))

    def clean(self):
        cleaned = super().clean()
        visa_type = cleaned.get("visa_type")
        if (
            visa_type
            and visa_type != VisaType.VISA_FREE
            and not cleaned.get("visa_number")
            and "visa_number" not in self.errors
        ):
            self.add_error("visa_number", _error(ErrorCode.VISA_NUMBER_REQUIRED))
        return cleaned
