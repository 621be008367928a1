"""Forms of the stations app (admin)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from stations.constants import BillboardPurpose, BillboardSize
from stations.models import Station


class StationAdminForm(forms.ModelForm):
    """The station form of the admin: the code is fixed once the station exists."""

    error_messages = {
        "code_immutable": _(
            "The station code cannot be changed: it is printed on billboards and in QR codes."
        ),
    }

    class Meta:
        model = Station
        fields = [
            "code",
            "district",
            "phone",
            "email",
            "wechat_id",
            "languages_spoken",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "code" in self.fields:
            # A disabled field ignores whatever is posted: the stored code always wins.
            self.fields["code"].disabled = True

    def clean_code(self):
        code = self.cleaned_data["code"]
        if self.instance.pk and code != self.instance.code:
            raise forms.ValidationError(
                self.error_messages["code_immutable"], code="code_immutable"
            )
        return code


class BillboardBatchForm(forms.Form):
    """Paper size and purpose of a batch of billboards."""

    size = forms.ChoiceField(
        label=_("Paper size"), choices=BillboardSize.choices, initial=BillboardSize.A3
    )
    purpose = forms.ChoiceField(
        label=_("QR codes"), choices=BillboardPurpose.choices, initial=BillboardPurpose.BOTH
    )
