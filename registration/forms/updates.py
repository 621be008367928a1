"""Forms of the updates through the private link, and of the lost-link page."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registration.constants import DocumentKind, ErrorCode
from registration.forms.fields import (
    CLOCK_TOLERANCE,
    DATETIME_INPUT_FORMATS,
    ContactFieldsMixin,
    DateInput,
    DateTimeInput,
    HoneypotMixin,
    PhotoFieldsMixin,
    StayFieldsMixin,
    VisaFieldsMixin,
    _error,
)
from registration.forms.register import RegistrationForm
from stations.models import Station


class StationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} — {obj.district}" if obj.district else obj.name


class MoveForm(HoneypotMixin, PhotoFieldsMixin, StayFieldsMixin):
    """A new address: the stay section again, pre-filled; a new registration in law."""

    station = StationChoiceField(
        label=_("Station that serves the new address"),
        queryset=Station.objects.none(),
        empty_label=None,
        # A page sent before the field existed keeps the current station.
        required=False,
        help_text=_("Moving into another district? Choose the station of that district."),
    )
    consent = RegistrationForm.base_fields["consent"]
    photo_kinds = (DocumentKind.LEASE.value,)
    field_order = ["station"]

    def __init__(self, *args, registration=None, **kwargs):
        self.registration = registration
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = (
            Station.objects.active().prefetch_related("texts").order_by("district", "code")
        )
        if registration is not None:
            self.fields["station"].initial = registration.station_id

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
        if data.get("station") is None:
            data.pop("station", None)
        return data


class ReentryForm(HoneypotMixin, PhotoFieldsMixin, VisaFieldsMixin):
    """
    "I'm back from a trip abroad": the new entry and its stamp at the same address; the
    visa fields only when the visa changed (optional fields, so no JavaScript is needed).
    """

    entry_date = forms.DateField(label=_("Date of your new entry into China"), widget=DateInput())
    arrival_at = forms.DateTimeField(
        label=_("Date and time you were back at your address"),
        input_formats=DATETIME_INPUT_FORMATS,
        widget=DateTimeInput(),
    )
    expected_departure = forms.DateField(label=_("Expected departure date"), widget=DateInput())
    address_unchanged = forms.BooleanField(
        label=_("I still live at the same address."), required=False
    )
    visa_changed = forms.BooleanField(
        label=_("My visa or permit changed (fill in the new one below)."), required=False
    )
    photo_kinds = (DocumentKind.ENTRY_STAMP.value, DocumentKind.VISA_PAGE.value)
    required_photo_kinds = (DocumentKind.ENTRY_STAMP.value,)
    field_order = [
        "entry_date",
        "arrival_at",
        "entry_stamp",
        "expected_departure",
        "address_unchanged",
        "visa_changed",
        "visa_type",
        "visa_number",
        "visa_valid_until",
        "visa_page",
    ]

    def __init__(self, *args, registration=None, **kwargs):
        self.registration = registration
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)  # the photo fields come after the base fields
        for name in ("visa_type", "visa_valid_until"):
            self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        previous = self.registration
        entry = cleaned.get("entry_date")
        changed = cleaned.get("visa_changed")
        if not changed:
            # The visa fields are ignored unless the visa changed: no error about them.
            for name in ("visa_type", "visa_number", "visa_valid_until"):
                self.errors.pop(name, None)
        if not cleaned.get("address_unchanged"):
            self.add_error("address_unchanged", _error(ErrorCode.ADDRESS_UNCHANGED_REQUIRED))
        if changed:
            for name in ("visa_type", "visa_valid_until"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, forms.Field.default_error_messages["required"])
            page = DocumentKind.VISA_PAGE.value
            if page not in self.photos_present and page not in self.errors:
                self.add_error(page, _error(ErrorCode.PHOTO_REQUIRED))
        valid_until = cleaned.get("visa_valid_until") if changed else previous.visa_valid_until
        if entry:
            if entry > timezone.localdate():
                self.add_error("entry_date", _error(ErrorCode.ENTRY_FUTURE))
            elif entry <= previous.entry_date:
                self.add_error("entry_date", _error(ErrorCode.ENTRY_NOT_AFTER_PREVIOUS))
            elif valid_until and valid_until <= entry:
                field = "visa_valid_until" if changed else "visa_changed"
                self.add_error(field, _error(ErrorCode.VISA_BEFORE_ENTRY))
        arrival = cleaned.get("arrival_at")
        if arrival:
            if arrival > timezone.now() + CLOCK_TOLERANCE:
                self.add_error("arrival_at", _error(ErrorCode.ARRIVAL_FUTURE))
            elif entry and timezone.localtime(arrival).date() < entry:
                self.add_error("arrival_at", _error(ErrorCode.ARRIVAL_BEFORE_ENTRY))
        departure = cleaned.get("expected_departure")
        if departure:
            if arrival and departure <= timezone.localtime(arrival).date():
                self.add_error("expected_departure", _error(ErrorCode.DEPARTURE_BEFORE_ARRIVAL))
            elif valid_until and departure > valid_until:
                self.add_error("expected_departure", _error(ErrorCode.DEPARTURE_AFTER_VISA))
        return cleaned

    def service_data(self) -> dict:
        data = {
            name: self.cleaned_data[name]
            for name in ("entry_date", "arrival_at", "expected_departure")
        }
        if self.cleaned_data.get("visa_changed"):
            for name in ("visa_type", "visa_number", "visa_valid_until"):
                data[name] = self.cleaned_data[name]
        return data


class StayLongerForm(HoneypotMixin):
    """ "I'm staying longer": a later expected departure, within the visa's validity."""

    expected_departure = forms.DateField(label=_("New expected departure date"), widget=DateInput())

    def __init__(self, *args, registration=None, **kwargs):
        self.registration = registration
        super().__init__(*args, **kwargs)

    def clean_expected_departure(self):
        departure = self.cleaned_data["expected_departure"]
        if departure < timezone.localdate():
            raise _error(ErrorCode.DEPARTURE_BEFORE_ARRIVAL)
        if self.registration and departure > self.registration.visa_valid_until:
            raise _error(ErrorCode.DEPARTURE_AFTER_VISA)
        return departure


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
