"""Forms of the help journey: help request, reply, feedback and check-in answer."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.images import image_sanitize
from inquiries.constants import Category, ContactMethod, ErrorCode
from inquiries.models import SHORT_TEXT_MAX_LENGTH, TEXT_MAX_LENGTH, Inquiry
from inquiries.validators import validate_no_markup

YES_NO = [("yes", pgettext_lazy("answer", "Yes")), ("no", pgettext_lazy("answer", "No"))]
RATINGS = [(value, str(value)) for value in range(1, 6)]


class HelpRequestForm(forms.ModelForm):
    """A resident's help request. ``website`` is a trap for robots; people never see it."""

    error_messages = {
        "contact_missing": ErrorCode.CONTACT_MISSING.label,
        "spam": ErrorCode.SPAM.label,
    }

    photo = forms.ImageField(
        label=_("Photo (optional)"),
        required=False,
        help_text=_(
            "A photo of the problem or of a document, if it helps. JPEG or PNG, up to 5 MB."
        ),
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    r = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Inquiry
        fields = [
            "category",
            "subject",
            "description",
            "urgency",
            "contact_name",
            "contact_method",
            "phone",
            "email",
            "wechat_id",
            "contact_time",
            "language",
        ]
        widgets = {
            "urgency": forms.RadioSelect,
            "contact_method": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {
            "category": "",
            "subject": _("A few words, e.g. “Landlord keeps my deposit”."),
            "description": _("What happened, and what help you need."),
            "urgency": _("In danger right now? Call 110 first."),
            "contact_name": "",
            "phone": _("A Chinese mobile number, or any number with its country code."),
            "email": "",
            "wechat_id": "",
            "contact_time": "",
            "language": _("We will write to you in this language."),
        }
        labels = {
            "category": _("What do you need help with?"),
            "subject": _("Subject"),
            "description": _("Describe your situation"),
            "urgency": _("How urgent is it?"),
            "contact_name": _("Your name"),
            "contact_method": _("How should we contact you?"),
            "contact_time": _("When is a good time?"),
            "language": _("Your preferred language"),
        }

    def __init__(self, *args, language: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + list(Category.choices)
        self.fields["category"].error_messages["invalid_choice"] = _(
            "Choose one of the categories."
        )
        self.fields["language"].choices = settings.LANGUAGES
        if language and not self.is_bound:
            self.initial.setdefault("language", language)
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        self.fields["email"].widget.attrs.update({"autocomplete": "email"})
        self.fields["contact_name"].widget.attrs.update({"autocomplete": "name"})

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise ValidationError(self.error_messages["spam"], code=ErrorCode.SPAM)
        return ""

    def clean(self):
        cleaned = super().clean()
        method = cleaned.get("contact_method")
        field = {
            ContactMethod.PHONE: "phone",
            ContactMethod.EMAIL: "email",
            ContactMethod.WECHAT: "wechat_id",
        }.get(method)
        if field and not cleaned.get(field) and field not in self.errors:
            self.add_error(
                field,
                ValidationError(
                    self.error_messages["contact_missing"], code=ErrorCode.CONTACT_MISSING
                ),
            )
        return cleaned

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo:
            return None
        return image_sanitize(photo)


class ResidentReplyForm(forms.Form):
    """The resident's reply on their case page."""

    body = forms.CharField(
        label=_("Your reply"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        validators=[validate_no_markup],
    )


class FeedbackForm(forms.Form):
    """Did the help help? Asked once when a case is resolved."""

    helped = forms.TypedChoiceField(
        label=_("Did we help you?"),
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you? (1 = not at all, 5 = very)"),
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=SHORT_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_no_markup],
    )


class CheckInAnswerForm(forms.Form):
    """The three standard questions of a check-in round."""

    rating = forms.TypedChoiceField(
        label=_("How is your life here? (1 = very hard, 5 = very good)"),
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
    )
    troubles = forms.CharField(
        label=_("Is anything troubling you?"),
        required=False,
        max_length=SHORT_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        validators=[validate_no_markup],
        help_text=_("Housing, health, study, work, papers, language, daily life — anything."),
    )
    wants_contact = forms.TypedChoiceField(
        label=_("Would you like us to contact you?"),
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="no",
    )
    contact_method = forms.ChoiceField(
        label=_("If yes, how?"),
        choices=ContactMethod.choices,
        required=False,
        widget=forms.RadioSelect,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("wants_contact") and not cleaned.get("contact_method"):
            self.add_error(
                "contact_method",
                ValidationError(_("Choose how we should contact you."), code="required"),
            )
        return cleaned
