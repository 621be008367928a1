"""
Residence registrations in the admin: the station's review queue.

Everything is scoped by ``stations.selectors.stations_for_user``: lists, change pages,
search, photos. Fields are read-only here; decisions go through the review actions
(``actions.RegistrationReviewMixin``), which call the services (status rules, history,
message to the resident).
"""

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from notifications.selectors import messages_concerning
from privacy.admin_audit import AuditedLooksAdminMixin
from privacy.export import AuditedCsvExportAdminMixin
from registration.admin.actions import REVIEW_PERMISSION, RegistrationReviewMixin
from registration.admin.counter import RegistrationCounterMixin
from registration.admin.filters import DeletionRequestedFilter, QueueFilter
from registration.admin.history import AmendmentInline, ReadOnlyScopedHistoryMixin
from registration.constants import ACTIVE_STATUSES, WAITING_STATUSES, AmendmentKind, Decision
from registration.models import Amendment, Registration
from registration.official_record import OFFICIAL_COLUMNS, OFFICIAL_SENSITIVE_COLUMNS
from registration.selectors import (
    documents_carried,
    documents_current,
    registration_changes,
    registration_decisions_allowed,
    registration_other_stays,
    registrations_search_exact,
    resident_match_suggestions,
)
from stations.admin_scoping import StationListFilter, StationScopedAdminMixin


@admin.register(Registration)
class RegistrationAdmin(
    RegistrationCounterMixin,
    RegistrationReviewMixin,
    AuditedCsvExportAdminMixin,
    AuditedLooksAdminMixin,
    StationScopedAdminMixin,
    ReadOnlyScopedHistoryMixin,
    SimpleHistoryAdmin,
):
    list_display = [
        "reference",
        "resident_name",
        "nationality",
        "station_name",
        "status",
        "arrived_as",
        "arrival",
        "deadline",
        "visa_valid_until",
        "resident_language",
    ]
    list_filter = [
        "status",
        StationListFilter,
        QueueFilter,
        DeletionRequestedFilter,
        "visa_type",
        "stay_reason",
        "accommodation_type",
        # Which language each resident reads: messages and replies go out in it.
        "resident__preferred_language",
        ("arrival_at", admin.DateFieldListFilter),
    ]
    search_fields = [
        "reference",
        "resident__surname",
        "resident__given_names",
        "resident__chinese_name",
    ]
    search_help_text = _("Reference, name, exact travel-document or visa number, or phone number.")
    list_select_related = ["resident", "station"]
    list_per_page = 50
    show_full_result_count = False
    ordering = ["-submitted_at", "-pk"]
    actions = ["mark_registered", "request_correction", "reject", "erase_personal_data"]
    inlines = [AmendmentInline]
    change_form_template = "admin/registration/registration/change_form.html"
    fieldsets = [
        (
            _("Registration"),
            {
                "fields": [
                    "reference",
                    "station",
                    "status",
                    "arrived_as",
                    "submitted_at",
                    "deadline_at",
                ]
            },
        ),
        (
            _("Resident"),
            {
                "fields": [
                    "resident_link",
                    "resident_identity",
                    "resident_document",
                    "resident_contact",
                ]
            },
        ),
        (
            _("Visa or residence permit"),
            {
                "fields": [
                    "visa_type",
                    "visa_number",
                    "visa_valid_until",
                    "entry_date",
                    "port_of_entry",
                ]
            },
        ),
        (
            _("The stay"),
            {
                "fields": [
                    "arrival_at",
                    "expected_departure",
                    "stay_reason",
                    "school_or_employer",
                    "address",
                    "accommodation_type",
                    "host_name",
                    "host_phone",
                ]
            },
        ),
        (
            _("Review"),
            {
                "fields": [
                    "staff_message",
                    "decided_by",
                    "decided_at",
                    "end_reason",
                    "ended_at",
                    "departed_on",
                    "previous",
                    "continued_at",
                    "deletion_requested_at",
                    "anonymised_at",
                ]
            },
        ),
        (
            _("Consent"),
            {
                "classes": ["collapse"],
                "fields": [
                    "source",
                    "consent_notice_version",
                    "consent_given_at",
                    "consent_recorded_by",
                    "language",
                ],
            },
        ),
    ]
    history_list_display = ["status"]

    # -- scoping --------------------------------------------------------------
    export_filename = "registrations"
    # The police system's columns (docs/official-record.md), the same in CSV and XLSX.
    export_fields = OFFICIAL_COLUMNS
    # Only with the explicit permission privacy.export_document_numbers.
    export_sensitive_fields = OFFICIAL_SENSITIVE_COLUMNS
    change_list_template = "admin/registration/registration/change_list.html"

    def get_queryset(self, request):
        # Scoped to the user's stations by StationScopedAdminMixin. How each registration
        # began (a move, a re-entry) is its first amendment: one indexed subquery per row.
        first_kind = Amendment.objects.filter(registration=OuterRef("pk")).order_by(
            "created_at", "pk"
        )
        return (
            super()
            .get_queryset(request)
            .prefetch_related("station__texts")
            .annotate(first_kind=Subquery(first_kind.values("kind")[:1]))
        )

    def get_ordering(self, request):
        if request.GET.get(QueueFilter.parameter_name) in QueueFilter.ORDERED_BY_DEADLINE:
            return ["deadline_at", "pk"]
        return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        extra, matched = (
            registrations_search_exact(term=search_term) if search_term else (None, False)
        )
        result, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if matched:
            result = result | queryset.filter(extra)
        return result, may_have_duplicates

    def get_readonly_fields(self, request, obj=None):
        return [f for _title, spec in self.fieldsets for f in spec["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    # -- columns --------------------------------------------------------------
    @admin.display(description=_("name"), ordering="resident__surname")
    def resident_name(self, obj):
        return obj.resident.full_name

    @admin.display(description=_("nationality"))
    def nationality(self, obj):
        return obj.resident.nationality.name

    @admin.display(description=_("preferred language"), ordering="resident__preferred_language")
    def resident_language(self, obj):
        return obj.resident.get_preferred_language_display()

    @admin.display(description=_("station"), ordering="station__code")
    def station_name(self, obj):
        return obj.station.name

    @admin.display(description=_("arrival at this address"), ordering="arrival_at")
    def arrival(self, obj):
        return timezone.localtime(obj.arrival_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=_("deadline"), ordering="deadline_at")
    def deadline(self, obj):
        waiting = obj.status in WAITING_STATUSES
        local = timezone.localtime(obj.deadline_at).strftime("%Y-%m-%d %H:%M")
        if waiting and obj.deadline_at < timezone.now():
            return format_html(
                '<span class="linli-overdue" title="{}">⚠ {}</span>', _("overdue"), local
            )
        return local

    @admin.display(description=_("arrived as"))
    def arrived_as(self, obj):
        """A re-entry or a move is flagged; a first registration shows nothing."""
        kind = getattr(obj, "first_kind", None)
        if kind in (AmendmentKind.REENTRY, AmendmentKind.ADDRESS):
            return AmendmentKind(kind).label
        return "—"

    @admin.display(description=_("continued at"))
    def continued_at(self, obj):
        """
        The station of the registration that follows this one (a move, a re-entry): its
        name only, never its address: another station's record is behind its wall.
        """
        following = obj.next_registrations.select_related("station").first()
        if following is None:
            return "—"
        return following.station.name

    @admin.display(description=_("resident"))
    def resident_link(self, obj):
        url = reverse("admin:registration_resident_change", args=[obj.resident_id])
        return format_html('<a href="{}">{}</a>', url, obj.resident.full_name)

    @admin.display(description=_("identity"))
    def resident_identity(self, obj):
        r = obj.resident
        return format_html(
            "{} · {} · {} · {}",
            r.chinese_name or "—",
            r.get_sex_display(),
            r.date_of_birth,
            r.nationality.name,
        )

    @admin.display(description=_("travel document"))
    def resident_document(self, obj):
        r = obj.resident
        return format_html(
            "{} {} · {} {}",
            r.get_document_type_display(),
            r.document_number,
            _("expires"),
            r.document_expiry,
        )

    @admin.display(description=_("contact"))
    def resident_contact(self, obj):
        r = obj.resident
        return format_html(
            "{} · {} · WeChat {} · {} / {}",
            r.phone,
            r.email or "—",
            r.wechat_id or "—",
            r.get_preferred_language_display(),
            r.get_preferred_channel_display(),
        )

    # -- change page: photos and review buttons ------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        extra_context = extra_context or {}
        allowed = registration_decisions_allowed(registration=obj)
        extra_context.update(
            {
                "photos": list(documents_current(registration=obj).values()),
                "photos_carried": documents_carried(registration=obj),
                "changes": registration_changes(registration=obj),
                "messages_sent": messages_concerning(obj)[:20],
                # The same person's other stays, as far as this user may see them.
                "other_registrations": registration_other_stays(
                    registration=obj, user=request.user
                )[:20],
                "same_person_suggestions": resident_match_suggestions(
                    registration=obj, user=request.user
                ),
                "can_review": request.user.has_perm(REVIEW_PERMISSION),
                "can_mark_registered": Decision.REGISTERED in allowed,
                "can_request_correction": Decision.CORRECTION in allowed,
                "can_reject": Decision.REJECT in allowed,
                "can_end": obj.status in ACTIVE_STATUSES,
                "can_counter": request.user.has_perm(REVIEW_PERMISSION)
                and obj.anonymised_at is None,
            }
        )
        # Audited by AuditedLooksAdminMixin.
        return super().change_view(request, object_id, form_url, extra_context)
