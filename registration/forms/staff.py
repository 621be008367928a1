"""Forms of the staff in the admin: review messages, walk-ins at the counter, corrections."""

from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from registration.forms.fields import clean_document_number
from registration.forms.register import RegistrationForm
from registration.models import Registration, Resident
from registration.services import STAFF_REGISTRATION_FIELDS, STAFF_RESIDENT_FIELDS


class StaffMessageForm(forms.Form):
    """The message staff send with a correction request or a rejection."""

    message = forms.CharField(
        label=_("Message to the resident"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("The resident reads this in the message and on their private link page."),
    )


class CounterRegistrationForm(RegistrationForm):
    """
    The public registration form as staff fill it in at the counter with the resident
    (窗口现场登记): the station, and the officer's record of the resident's consent instead
    of the resident's own tick.
    """

    station = forms.ModelChoiceField(label=_("Station"), queryset=None, empty_label=None)
    consent = forms.BooleanField(
        label=_("The resident read the privacy notice and consents to the processing."),
        required=False,
    )

    def __init__(self, *args, stations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = stations
        # The honeypot catches bots on the public form; staff sign in.
        self.fields.pop("website", None)

    def sections(self):
        return [("station", _("Station"), [self["station"]]), *super().sections()]


class StaffCorrectionForm(forms.Form):
    """
    The fields staff may correct on a registration and its resident, filled with what they
    say now; ``changes`` returns what the officer changed.
    """

    note = forms.CharField(
        label=_("Why (kept in the history)"),
        max_length=200,
        help_text=_("For example: typo in the passport number, checked against the passport."),
    )

    def __init__(self, *args, registration, **kwargs):
        self.registration = registration
        resident = registration.resident
        initial = {name: getattr(resident, name) for name in STAFF_RESIDENT_FIELDS}
        initial.update({name: getattr(registration, name) for name in STAFF_REGISTRATION_FIELDS})
        super().__init__(*args, initial=initial, **kwargs)
        self.fields.update(fields_for_model(Resident, fields=STAFF_RESIDENT_FIELDS))
        self.fields.update(fields_for_model(Registration, fields=STAFF_REGISTRATION_FIELDS))
        self.order_fields([*STAFF_RESIDENT_FIELDS, *STAFF_REGISTRATION_FIELDS, "note"])

    def clean_document_number(self):
        return clean_document_number(self.cleaned_data.get("document_number"))

    def changes(self) -> dict:
        """Return the corrected fields and their new values (unchanged ones left out)."""
        # changed_data compares with what the page showed (a time without its microseconds).
        correctable = (*STAFF_RESIDENT_FIELDS, *STAFF_REGISTRATION_FIELDS)
        return {name: self.cleaned_data[name] for name in self.changed_data if name in correctable}
