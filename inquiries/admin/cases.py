"""The staff side of help requests in Django admin: the case list, the case page, feedback."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from inquiries.admin.actions import assign_to, assign_to_me
from inquiries.admin.forms import InquiryAdminForm
from inquiries.constants import EntryKind
from inquiries.models import Inquiry, InquiryFeedback
from inquiries.selectors import inquiry_photo_bytes, inquiry_thread
from inquiries.services import inquiry_assign, inquiry_update
from privacy.constants import AuditAction
from privacy.export import AuditedCsvExportAdminMixin
from privacy.services import audit_record
from stations.admin_scoping import StationListFilter, StationScopedAdminMixin


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
    actions = [assign_to_me, assign_to]
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
                        date_format(timezone.localtime(entry.created_at), "DATETIME_FORMAT"),
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
        inquiry_update(
            inquiry=obj,
            by=request.user,
            category=data["category"],
            urgency=data["urgency"],
            assignee=data.get("assigned_to"),
            entry_kind=data.get("entry_kind"),
            entry_body=data.get("entry_body") or "",
            to_status=data.get("new_status") or "",
        )
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
