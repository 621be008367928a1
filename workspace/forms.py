"""Forms of two-step sign-in: a code from the app (or a recovery code), an enrolment code."""

from django import forms
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    """A six-digit code from the authenticator app, or (at the prompt) a recovery code."""

    error_messages = {"invalid_token": _("This code is not valid. Enter the current code.")}

    token = forms.CharField(
        label=_("Six-digit code"),
        min_length=6,
        max_length=16,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("Open your authenticator app and type the code it shows for Linli."),
    )

    def __init__(self, *args, recovery_codes: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if recovery_codes:
            # Recovery codes have letters: no numeric keypad on phones.
            self.fields["token"].widget.attrs.pop("inputmode", None)

    def invalid_token_error(self) -> forms.ValidationError:
        return forms.ValidationError(self.error_messages["invalid_token"], code="invalid_token")

    def clean_token(self):
        return self.cleaned_data["token"].replace(" ", "")


class EnrolmentCodeForm(forms.Form):
    """The one-time enrolment code a manager or administrator gave the staff member."""

    code = forms.CharField(
        label=_("Enrolment code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "autofocus": True}
        ),
        help_text=_(
            "The code your station manager or an administrator gave you, for example "
            "7K3M-Q9XD-2HTB."
        ),
    )
