"""The staff side of help requests and check-in rounds, in Django admin."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inquiries.constants import TRANSITIONS, EntryKind, RoundStatus, Status
from inquiries.forms import CheckInAnswerForm
from inquiries.models import (
    CheckInAnswer,
    CheckInRound,
    CheckInRoundIntro,
    Inquiry,
    InquiryFeedback,
    ReplyTemplate,
)
from inquiries.selectors import (
    inquiry_photo_bytes,
    inquiry_thread,
    reply_templates_for,
    round_statistics,
    staff_for_stations,
)
from inquiries.services import (
    check_in_round_send_request,
    inquiries_assign,
    inquiry_assign,
    inquiry_classify,
    inquiry_note_add,
    inquiry_reply,
    inquiry_transition,
    transition_allowed,
)
from privacy.constants import AuditAction
from privacy.export import AuditedCsvExportAdminMixin
from privacy.services import audit_record
from stations.admin_scoping import StationListFilter, StationScopedAdminMixin
from stations.constants import MembershipRole
from stations.selectors import (
    stations_for_user,
    user_is_member,
    user_manages,
    user_sees_all_stations,
)


# ------------------------------------------------------------------------------
# Filters
# ------------------------------------------------------------------------------
class OverdueFilter(admin.SimpleListFilter):
    title = _("first response")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("overdue")), ("no", _("not overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "no":
            return queryset.not_overdue()
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("me")), ("nobody", _("nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


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
        inquiry = self.instance
        status = inquiry.status
        assignee = cleaned.get("assigned_to")
        if "assigned_to" in self.changed_data and assignee is not None:
            if not user_is_member(assignee, inquiry.station):
                self.add_error(
                    "assigned_to",
                    ValidationError(
                        _("This person does not work at the case's station."), code="not_a_member"
                    ),
                )
            elif status in (Status.NEW, Status.REOPENED):
                status = Status.ASSIGNED
        body = (cleaned.get("entry_body") or "").strip()
        template = cleaned.get("reply_template")
        if not body and template is not None:
            body = template.body
        cleaned["entry_body"] = body
        new_status = cleaned.get("new_status")
        if new_status == Status.ASSIGNED and assignee is None:
            self.add_error(
                "assigned_to",
                ValidationError(
                    _("Choose the staff member to assign the case to."), code="assignee_required"
                ),
            )
        if new_status and new_status != status and not transition_allowed(status, new_status):
            self.add_error(
                "new_status",
                ValidationError(
                    _("A case cannot move from “%(current)s” to “%(target)s”."),
                    code="invalid_transition",
                    params={"current": Status(status).label, "target": Status(new_status).label},
                ),
            )
        if body and cleaned.get("entry_kind") == EntryKind.REPLY and status == Status.CLOSED:
            self.add_error(
                "entry_body",
                ValidationError(
                    _("This case is closed; reopen it before replying."), code="case_closed"
                ),
            )
        return cleaned


@admin.register(Inquiry)
class InquiryAdmin(AuditedCsvExportAdminMixin, StationScopedAdminMixin, admin.ModelAdmin):
    form = InquiryAdminForm
    export_filename = "help-requests"
    # Figures for follow-up and statistics; residents' contact details stay out of exports.
    export_fields = [
        (_("reference"), "reference"),
        (_("station"), "station.code"),
        (_("category"), "get_category_display"),
        (_("urgency"), "get_urgency_display"),
        (_("status"), "get_status_display"),
        (_("subject"), "subject"),
        (_("assigned to"), "assigned_to.get_username"),
        (_("received"), "created_at"),
        (_("first response due"), "first_response_due"),
        (_("first response"), "first_responded_at"),
        (_("resolved"), "resolved_at"),
    ]
    change_form_template = "admin/inquiries/inquiry/change_form.html"
    list_display = [
        "reference",
        "subject",
        "station_name",
        "category",
        "urgency",
        "status",
        "assigned_to",
        "first_response_due",
        "overdue",
        "language",
        "created_at",
    ]
    list_filter = [
        "status",
        OverdueFilter,
        AssignedFilter,
        "category",
        "urgency",
        "source",
        "language",  # the resident's: every reply goes out in it
        StationListFilter,
    ]
    list_select_related = ["station", "assigned_to"]
    search_fields = ["reference", "subject", "contact_name", "email", "phone", "wechat_id"]
    date_hierarchy = None
    list_per_page = 50
    show_full_result_count = False  # one COUNT per page view, not two
    actions = ["assign_to_me", "assign_to"]
    readonly_fields = [
        "reference",
        "station",
        "source",
        "resident",
        "status",
        "subject",
        "description",
        "photo_link",
        "contact_name",
        "contact_method",
        "contact_time",
        "phone",
        "email",
        "wechat_id",
        "language",
        "created_at",
        "first_response_due",
        "first_responded_at",
        "resolved_at",
        "closed_at",
        "thread",
        "feedback_summary",
    ]
    fieldsets = [
        (None, {"fields": ["reference", "station", "status", "source", "resident"]}),
        (_("Request"), {"fields": ["category", "urgency", "subject", "description", "photo_link"]}),
        (
            _("Contact"),
            {
                "fields": [
                    "contact_name",
                    "contact_method",
                    "contact_time",
                    "phone",
                    "email",
                    "wechat_id",
                    "language",
                ]
            },
        ),
        (
            _("Handling"),
            {
                "fields": [
                    "assigned_to",
                    "created_at",
                    "first_response_due",
                    "first_responded_at",
                    "resolved_at",
                    "closed_at",
                    "feedback_summary",
                ]
            },
        ),
        (_("Thread"), {"fields": ["thread"]}),
        (
            _("Add to the thread"),
            {"fields": ["entry_kind", "reply_template", "entry_body", "new_status"]},
        ),
    ]

    # --- scoping -------------------------------------------------------------
    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("station", "assigned_to")
            .prefetch_related("station__texts")
        )

    def has_add_permission(self, request):
        return False  # cases come from residents and check-in answers

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        user = request.user

        class ScopedForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=user, **kw)

        return ScopedForm

    # --- columns --------------------------------------------------------------
    @admin.display(description=_("station"), ordering="station__code")
    def station_name(self, obj):
        return obj.station.name

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description=_("photo"))
    def photo_link(self, obj):
        if not obj.photo:
            return "—"
        url = reverse("admin:inquiries_inquiry_photo", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open the photo")
        )

    @admin.display(description=_("thread"))
    def thread(self, obj):
        entries = inquiry_thread(inquiry=obj)
        if not entries:
            return _("No entries yet.")
        labels = {
            EntryKind.REPLY: _("Reply"),
            EntryKind.NOTE: _("Internal note — not shown to the resident"),
            EntryKind.EVENT: _("Change"),
        }
        return format_html(
            '<ol class="linli-thread">{}</ol>',
            format_html_join(
                "",
                '<li class="linli-thread-{}"><p><strong>{}</strong> · {} · {}</p><p>{}</p></li>',
                (
                    (
                        entry.kind,
                        labels.get(entry.kind, entry.kind),
                        entry.author.get_username()
                        if entry.author
                        else entry.get_author_kind_display(),
                        timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
                        entry.text(),
                    )
                    for entry in entries
                ),
            ),
        )

    @admin.display(description=_("feedback"))
    def feedback_summary(self, obj):
        answered = [f for f in obj.feedback.all() if f.answered_at]
        if not answered:
            return "—"
        return format_html_join(
            "\n",
            "<p>{} · {}/5 · {}</p>",
            (
                (_("helped") if f.helped else _("not helped"), f.rating, f.comment or "")
                for f in answered
            ),
        )

    # --- saving through the services -----------------------------------------
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        with transaction.atomic():
            if {"category", "urgency"} & set(form.changed_data):
                inquiry_classify(
                    inquiry=obj, category=data["category"], urgency=data["urgency"], by=request.user
                )
            if "assigned_to" in form.changed_data and data.get("assigned_to") is not None:
                inquiry_assign(inquiry=obj, assignee=data["assigned_to"], by=request.user)
            body = data.get("entry_body")
            new_status = data.get("new_status") or ""
            if body and data.get("entry_kind") == EntryKind.NOTE:
                inquiry_note_add(inquiry=obj, body=body, by=request.user)
            elif body:
                inquiry_reply(inquiry=obj, body=body, by=request.user, to_status=new_status)
                new_status = ""
            obj.refresh_from_db()
            if new_status and new_status != obj.status:
                inquiry_transition(inquiry=obj, to_status=new_status, by=request.user)
                obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # no inlines or many-to-many fields to save

    # --- extra views ----------------------------------------------------------
    def get_urls(self):
        urls = [
            path(
                "<int:pk>/photo/",
                self.admin_site.admin_view(self.photo_view),
                name="inquiries_inquiry_photo",
            ),
            path(
                "<int:pk>/assign-to-me/",
                self.admin_site.admin_view(self.assign_to_me_view),
                name="inquiries_inquiry_assign_to_me",
            ),
        ]
        return urls + super().get_urls()

    def _scoped_object(self, request, pk):
        inquiry = self.get_queryset(request).filter(pk=pk).first()
        if inquiry is None or not self.has_view_permission(request, inquiry):
            raise Http404
        return inquiry

    def photo_view(self, request, pk):
        inquiry = self._scoped_object(request, pk)
        if not inquiry.photo:
            raise Http404
        audit_record(
            user=request.user,
            action=AuditAction.DOCUMENT_VIEW,
            obj=inquiry,
            station=inquiry.station,
            detail="photo",
        )
        response = HttpResponse(inquiry_photo_bytes(inquiry=inquiry), content_type="image/jpeg")
        response["Content-Disposition"] = "inline"
        response["Cache-Control"] = "private, no-store"
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            original = response.context_data.get("original")
            if original is not None:
                audit_record(
                    user=request.user,
                    action=AuditAction.VIEW,
                    obj=original,
                    station=original.station,
                )
        return response

    def assign_to_me_view(self, request, pk):
        inquiry = self._scoped_object(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:inquiries_inquiry_change", args=[pk]))
        if not self.has_change_permission(request, inquiry):
            raise PermissionDenied
        try:
            inquiry_assign(inquiry=inquiry, assignee=request.user, by=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("The case is now assigned to you."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:inquiries_inquiry_change", args=[pk]))

    # --- actions --------------------------------------------------------------
    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        try:
            count = inquiries_assign(inquiries=queryset, assignee=request.user, by=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext("%(count)d case assigned to you.", "%(count)d cases assigned to you.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Assign to a staff member…"), permissions=["change"])
    def assign_to(self, request, queryset):
        station_ids = set(queryset.values_list("station_id", flat=True))
        # No case selected (another station's, posted by hand): nobody to offer, rather
        # than "members of every one of no stations", which is everyone.
        candidates = (
            staff_for_stations(station_ids=station_ids)
            if station_ids
            else get_user_model().objects.none()
        )

        class AssignForm(forms.Form):
            assignee = forms.ModelChoiceField(label=_("assign to"), queryset=candidates)

        if "apply" in request.POST:
            form = AssignForm(request.POST)
            if form.is_valid():
                try:
                    count = inquiries_assign(
                        inquiries=queryset, assignee=form.cleaned_data["assignee"], by=request.user
                    )
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                    return None
                self.message_user(
                    request,
                    ngettext("%(count)d case assigned.", "%(count)d cases assigned.", count)
                    % {"count": count},
                    messages.SUCCESS,
                )
                return None
        else:
            form = AssignForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign cases"),
            "opts": self.model._meta,
            "form": form,
            "cases": queryset,
            "no_candidates": not candidates.exists(),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/inquiries/inquiry/assign.html", context)


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(StationScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "language", "station", "is_active"]
    list_filter = ["language", "is_active"]
    search_fields = ["title", "body"]
    list_select_related = ["station"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("station__texts")

    def scope_queryset(self, request, queryset):
        # Templates without a station are shared by every station.
        return queryset.filter(
            Q(station__isnull=True) | Q(station__in=stations_for_user(request.user))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "station":
            formfield.queryset = stations_for_user(request.user, role=MembershipRole.MANAGER)
        return formfield

    def _may_edit(self, request, obj):
        if obj is None:
            return True
        if obj.station_id is None:
            return user_sees_all_stations(request.user)  # shared by every station
        return user_manages(request.user, obj.station)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)


# ------------------------------------------------------------------------------
# Check-in rounds
# ------------------------------------------------------------------------------
class CheckInRoundIntroInline(admin.StackedInline):
    model = CheckInRoundIntro
    extra = 0
    min_num = 1

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj else max(0, len(settings.LANGUAGES) - 1)

    def get_max_num(self, request, obj=None, **kwargs):
        return len(settings.LANGUAGES)


@admin.register(CheckInRound)
class CheckInRoundAdmin(StationScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "station",
        "status",
        "created_at",
        "sent_at",
        "invited",
        "answered",
        "cases",
    ]
    list_filter = ["status"]
    search_fields = ["title"]
    list_select_related = ["station"]
    inlines = [CheckInRoundIntroInline]
    readonly_fields = ["status", "sent_at", "created_by", "created_at", "statistics", "questions"]
    fields = [
        "station",
        "title",
        "valid_days",
        "questions",
        "status",
        "created_by",
        "created_at",
        "sent_at",
        "statistics",
    ]
    actions = ["send_round"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("station")
            .prefetch_related("station__texts")
            .annotate(
                invited_count=Count("invitations", distinct=True),
                answered_count=Count("invitations__answer", distinct=True),
                cases_count=Count("invitations__answer__inquiry", distinct=True),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.status != RoundStatus.DRAFT:
            fields.append("station")
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "station":
            field.queryset = stations_for_user(request.user, role=MembershipRole.MANAGER)
        return field

    def _may_manage(self, request, obj):
        return obj is None or user_manages(request.user, obj.station)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (
            super().has_delete_permission(request, obj)
            and self._may_manage(request, obj)
            and (obj is None or obj.status == RoundStatus.DRAFT)
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("invited"), ordering="invited_count")
    def invited(self, obj):
        return obj.invited_count

    @admin.display(description=_("answered"), ordering="answered_count")
    def answered(self, obj):
        return obj.answered_count

    @admin.display(description=_("cases raised"), ordering="cases_count")
    def cases(self, obj):
        return obj.cases_count

    @admin.display(description=_("questions"))
    def questions(self, obj):
        form = CheckInAnswerForm()
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{}</li>",
                ((form.fields[n].label,) for n in ("rating", "troubles", "wants_contact")),
            ),
        )

    @admin.display(description=_("statistics"))
    def statistics(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        stats = round_statistics(round=obj)
        rows = [
            (_("invited"), stats["invited"]),
            (_("delivered"), stats["delivered"]),
            (_("answered"), stats["answered"]),
            (_("cases raised"), stats["cases"]),
        ] + [(_("rating %(value)s") % {"value": value}, count) for value, count in stats["ratings"]]
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.action(description=_("Send the check-in round"), permissions=["change"])
    def send_round(self, request, queryset):
        sent = 0
        for round in queryset.select_related("station"):
            if not user_manages(request.user, round.station):
                self.message_user(
                    request,
                    _("Only the station's managers can send “%(round)s”.") % {"round": round},
                    messages.ERROR,
                )
                continue
            try:
                check_in_round_send_request(round=round, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{round}: {' '.join(error.messages)}", messages.ERROR)
                continue
            sent += 1
        if sent:
            self.message_user(
                request,
                ngettext(
                    "%(count)d round is being sent; residents already invited are not invited again.",
                    "%(count)d rounds are being sent; residents already invited are not invited again.",
                    sent,
                )
                % {"count": sent},
                messages.SUCCESS,
            )


@admin.register(CheckInAnswer)
class CheckInAnswerAdmin(StationScopedAdminMixin, admin.ModelAdmin):
    station_field = "invitation__round__station"
    list_display = ["invitation", "rating", "wants_contact", "inquiry", "created_at"]
    list_filter = ["rating", "wants_contact"]
    list_select_related = ["invitation__round", "inquiry"]
    readonly_fields = [
        "invitation",
        "rating",
        "troubles",
        "wants_contact",
        "contact_method",
        "inquiry",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InquiryFeedback)
class InquiryFeedbackAdmin(StationScopedAdminMixin, admin.ModelAdmin):
    station_field = "inquiry__station"
    list_display = ["inquiry", "helped", "rating", "answered_at", "expires_at"]
    list_filter = ["helped", "rating"]
    list_select_related = ["inquiry"]
    readonly_fields = [
        "inquiry",
        "helped",
        "rating",
        "comment",
        "answered_at",
        "expires_at",
        "created_at",
    ]
    exclude = ["token_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
