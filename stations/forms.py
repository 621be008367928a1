"""Forms of the stations app (admin)."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.languages import language_choices, language_codes
from stations.constants import BILLBOARD_MAX_LANGUAGES, BillboardPurpose, BillboardSize
from stations.models import Station


class StationAdminForm(forms.ModelForm):
    """
    The station form of the admin: the code is fixed once the station exists; the billboard
    languages are ticked among the site's (the model's validator keeps the sheet legible).
    """

    billboard_languages = forms.MultipleChoiceField(
        label=capfirst(_("billboard languages")),
        choices=language_choices,
        widget=forms.CheckboxSelectMultiple,
    )

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
            "billboard_languages",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "billboard_languages" in self.fields:
            self.fields["billboard_languages"].help_text = _(
                "Languages printed on this station's billboards and poster: at most "
                "%(limit)d, so that the text stays readable on A4 paper."
            ) % {"limit": BILLBOARD_MAX_LANGUAGES}
        if self.instance.pk and "code" in self.fields:
            # A disabled field ignores whatever is posted: the stored code always wins.
            self.fields["code"].disabled = True

    def clean_billboard_languages(self):
        # Stored in the site's order, whatever order the boxes were ticked in.
        chosen = set(self.cleaned_data["billboard_languages"])
        return [code for code in language_codes() if code in chosen]

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
