"""Forms of the staff's review in the admin."""

from django import forms
from django.utils.translation import gettext_lazy as _


class StaffMessageForm(forms.Form):
    """The message staff send with a correction request or a rejection."""

    message = forms.CharField(
        label=_("Message to the resident"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("The resident reads this in the message and on their private link page."),
    )
