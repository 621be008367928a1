"""The case form of the admin: it validates input; the rules live in the services."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from inquiries.constants import TRANSITIONS, EntryKind, Status
from inquiries.models import Inquiry, ReplyTemplate
from inquiries.selectors import reply_templates_for, staff_for_stations
from inquiries.services import inquiry_update_validate


class InquiryAdminForm(forms.ModelForm):
    """The case form: classification and assignee, plus one new thread entry and a status."""

    entry_kind = forms.ChoiceField(
        label=_("add to the thread"),
        choices=[
            (EntryKind.REPLY, _("reply to the resident")),
            (EntryKind.NOTE, _("internal note")),
        ],
        initial=EntryKind.REPLY,
        widget=forms.RadioSelect,
        required=False,
    )
    reply_template = forms.ModelChoiceField(
        label=_("reply template"),
        queryset=ReplyTemplate.objects.none(),
        required=False,
        help_text=_(
            "Pick a template, then edit it below. With the text left empty, the template is sent as it is."
        ),
    )
    entry_body = forms.CharField(
        label=_("text"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=_(
            "Replies are sent to the resident in their language; internal notes never leave the workspace."
        ),
    )
    new_status = forms.ChoiceField(
        label=_("change status to"), required=False, choices=[("", "—")] + list(Status.choices)
    )

    # Which field shows each error of ``inquiry_update_validate``, by the service's argument.
    SERVICE_ARGUMENT_FIELDS = {
        "assignee": "assigned_to",
        "to_status": "new_status",
        "entry_body": "entry_body",
    }

    class Meta:
        model = Inquiry
        fields = ["category", "urgency", "assigned_to"]

    class Media:
        js = ["inquiries/admin-reply.js"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        inquiry = self.instance
        if inquiry.pk:
            self.fields["assigned_to"].queryset = staff_for_stations(
                station_ids=[inquiry.station_id]
            )
            templates = reply_templates_for(inquiry=inquiry)
            self.fields["reply_template"].queryset = templates
            self.fields["reply_template"].widget.attrs["data-reply-templates"] = "1"
            self.template_texts = {str(t.pk): t.body for t in templates}
            allowed = TRANSITIONS.get(inquiry.status, frozenset())
            self.fields["new_status"].choices = [("", "—")] + [
                (value, label) for value, label in Status.choices if value in allowed
            ]

    def clean(self):
        cleaned = super().clean()
        body = (cleaned.get("entry_body") or "").strip()
        template = cleaned.get("reply_template")
        if not body and template is not None:
            body = template.body
        cleaned["entry_body"] = body
        try:
            inquiry_update_validate(
                inquiry=self.instance,
                assignee=cleaned.get("assigned_to"),
                entry_kind=cleaned.get("entry_kind"),
                entry_body=body,
                to_status=cleaned.get("new_status") or "",
            )
        except ValidationError as error:
            for argument, errors in error.error_dict.items():
                self.add_error(self.SERVICE_ARGUMENT_FIELDS[argument], errors)
        return cleaned
