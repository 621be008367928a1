"""
Residence registrations in the admin: the station's review queue.

Everything is scoped by ``stations.selectors.stations_for_user``: lists, change pages,
search, photos. Fields are read-only here; decisions go through the review actions, which
call the services (status rules, history, message to the resident).
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from phonenumber_field.phonenumber import to_python
from simple_history.admin import SimpleHistoryAdmin

from notifications.selectors import messages_concerning
from privacy.admin_audit import AuditedLooksAdminMixin
from privacy.constants import AuditAction
from privacy.export import AuditedCsvExportAdminMixin
from privacy.services import audit_record
from registration import services
from registration.constants import (
    TRANSITIONS,
    WAITING_STATUSES,
    ErrorCode,
    RegistrationStatus,
)
from registration.forms import StaffMessageForm
from registration.models import Amendment, Registration, Resident
from registration.selectors import (
    document_number_index,
    documents_current,
    reference_looks_valid,
    reference_normalise,
    registration_changes,
    registration_other_stays,
    registrations_visa_expiring,
    resident_match_suggestions,
    visa_number_index,
)
from stations.admin_scoping import StationListFilter, StationScopedAdminMixin
from stations.models import Station
from stations.selectors import station_ids_for_user, stations_for_user, user_sees_all_stations

REVIEW_PERMISSION = "registration.review_registration"

# Starting points for the message staff send; written out in the resident's language and
# edited by staff before sending.
REVIEW_MESSAGE_TEMPLATES = {
    "correction": _(
        "Please check your registration %(reference)s and correct the following "
        "through your private link: "
    ),
    "reject": _("We cannot register your stay %(reference)s for this reason: "),
}


def review_message_template(*, decision: str, registration) -> str:
    """Return the message template of ``decision`` in the resident's preferred language."""
    template = REVIEW_MESSAGE_TEMPLATES.get(decision)
    if template is None:
        return ""
    with translation.override(registration.resident.preferred_language):
        return str(template) % {"reference": registration.reference}


class QueueFilter(admin.SimpleListFilter):
    """The saved queues of the day's work; the waiting ones list the oldest deadline first."""

    title = _("queue")
    parameter_name = "queue"
    ORDERED_BY_DEADLINE = ("waiting", "overdue")

    def lookups(self, request, model_admin):
        return [
            ("waiting", _("waiting, oldest first")),
            ("overdue", _("waiting past the 24-hour deadline")),
            ("corrections", _("correction requested")),
            ("expiring", _("visa or permit expiring within 30 days")),
            ("mine", _("decided by me")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        today = timezone.localdate()
        queues = {
            "waiting": Q(status__in=WAITING_STATUSES),
            "overdue": Q(status__in=WAITING_STATUSES, deadline_at__lt=now),
            "corrections": Q(status=RegistrationStatus.CORRECTION_REQUESTED),
            "expiring": registrations_visa_expiring(today=today),
            "mine": Q(decided_by=request.user),
        }
        if self.value() in queues:
            return queryset.filter(queues[self.value()])
        return queryset


class DeletionRequestedFilter(admin.SimpleListFilter):
    title = _("deletion requested")
    parameter_name = "deletion"

    def lookups(self, request, model_admin):
        return [("yes", _("the resident asked for deletion"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deletion_requested_at__isnull=False, anonymised_at__isnull=True)
        return queryset


class AmendmentInline(admin.TabularInline):
    model = Amendment
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "status_before", "status_after", "staff_user", "message"]
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]
    verbose_name_plural = _("timeline")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff_user")


class ReadOnlyScopedHistoryMixin:
    """
    History pages never revert: the history is the record of who changed what; changes go
    through the services (review actions). Which objects' history a user may open is
    decided by StationScopedAdminMixin, as for every other page.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True

    def has_change_history_permission(self, request, obj=None):
        return False


def _search_terms(search_term: str) -> tuple[Q, bool]:
    """Exact matches beyond ``search_fields``: reference, document/visa number, phone."""
    term = search_term.strip()
    query = Q(pk__in=[])
    matched = False
    if reference_looks_valid(term):
        query |= Q(reference=reference_normalise(term))
        matched = True
    index = document_number_index(term)
    if index:
        query |= Q(resident__document_number_index=index) | Q(
            visa_number_index=visa_number_index(term)
        )
        matched = True
    number = to_python(term, region="CN")
    if number is not None and getattr(number, "is_valid", lambda: False)():
        query |= Q(resident__phone=number.as_e164) | Q(host_phone=number.as_e164)
        matched = True
    return query, matched


@admin.register(Registration)
class RegistrationAdmin(
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
            {"fields": ["reference", "station", "status", "submitted_at", "deadline_at"]},
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
                    "deletion_requested_at",
                    "anonymised_at",
                ]
            },
        ),
        (
            _("Consent"),
            {
                "classes": ["collapse"],
                "fields": ["consent_notice_version", "consent_given_at", "language"],
            },
        ),
    ]
    history_list_display = ["status"]

    # -- scoping --------------------------------------------------------------
    export_filename = "registrations"
    export_fields = [
        (_("reference"), "reference"),
        (_("status"), "get_status_display"),
        (_("station code"), "station.code"),
        (_("surname"), "resident.surname"),
        (_("given names"), "resident.given_names"),
        (_("nationality"), "resident.nationality.code"),
        (_("visa or permit"), "get_visa_type_display"),
        (_("valid until"), "visa_valid_until"),
        (_("arrival at this address"), "arrival_at"),
        (_("deadline"), "deadline_at"),
        (_("address"), "address"),
        (_("phone"), "resident.phone"),
        (_("email"), "resident.email"),
    ]
    # Only with the explicit permission privacy.export_document_numbers.
    export_sensitive_fields = [
        (_("travel document number"), "resident.document_number"),
        (_("visa or permit number"), "visa_number"),
    ]

    def get_queryset(self, request):
        # Scoped to the user's stations by StationScopedAdminMixin.
        return super().get_queryset(request).prefetch_related("station__texts")

    def get_ordering(self, request):
        if request.GET.get(QueueFilter.parameter_name) in QueueFilter.ORDERED_BY_DEADLINE:
            return ["deadline_at", "pk"]
        return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        extra, matched = _search_terms(search_term) if search_term else (None, False)
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
        waiting = obj.status in (RegistrationStatus.SUBMITTED, RegistrationStatus.RESUBMITTED)
        local = timezone.localtime(obj.deadline_at).strftime("%Y-%m-%d %H:%M")
        if waiting and obj.deadline_at < timezone.now():
            return format_html(
                '<span class="linli-overdue" title="{}">⚠ {}</span>', _("overdue"), local
            )
        return local

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
        allowed = TRANSITIONS.get(obj.status, ())
        extra_context.update(
            {
                "photos": list(documents_current(registration=obj).values()),
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
                "can_mark_registered": RegistrationStatus.REGISTERED in allowed,
                "can_request_correction": RegistrationStatus.CORRECTION_REQUESTED in allowed,
                "can_reject": RegistrationStatus.REJECTED in allowed,
            }
        )
        # Audited by AuditedLooksAdminMixin.
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/review/<str:decision>/",
                view(self.review_view),
                name=f"{info[0]}_{info[1]}_review",
            ),
            path(
                "<int:object_id>/same-person/<int:resident_id>/",
                view(self.same_person_view),
                name=f"{info[0]}_{info[1]}_same_person",
            ),
            path(
                "by-reference/<str:reference>/",
                view(self.by_reference_view),
                name=f"{info[0]}_{info[1]}_by_reference",
            ),
            *super().get_urls(),
        ]

    def by_reference_view(self, request, reference):
        """Open the registration of a reference (the receipt's QR code), if the user may."""
        obj = self.get_queryset(request).filter(reference=reference_normalise(reference)).first()
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        return HttpResponseRedirect(
            reverse("admin:registration_registration_change", args=[obj.pk])
        )

    def same_person_view(self, request, object_id, resident_id):
        """Confirm a suggested earlier record as the same person (POST, reviewers only)."""
        if request.method != "POST" or not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        # Any other record answers like one of another station: the service refuses both.
        other = Resident.objects.filter(pk=resident_id).first() or Resident(pk=resident_id)
        try:
            services.resident_match_confirm(
                registration=obj, other_resident=other, actor=request.user
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request, _("Confirmed: both records are the same person."), messages.SUCCESS
            )
        return HttpResponseRedirect(
            reverse("admin:registration_registration_change", args=[obj.pk])
        )

    def _decide(self, request, obj, decision, message=""):
        audit_record(
            user=request.user,
            action=AuditAction.DECISION,
            obj=obj,
            station=obj.station,
            detail=decision,
        )
        if decision == "registered":
            services.registration_mark_registered(registration=obj, actor=request.user)
        elif decision == "correction":
            services.registration_request_correction(
                registration=obj, actor=request.user, message=message
            )
        elif decision == "reject":
            services.registration_reject(registration=obj, actor=request.user, message=message)
        else:
            raise Http404

    def review_view(self, request, object_id, decision):
        """Mark registered, request a correction or reject one registration."""
        if not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        change_url = reverse("admin:registration_registration_change", args=[obj.pk])
        needs_message = decision in ("correction", "reject")
        form = (
            StaffMessageForm(
                request.POST or None,
                initial={"message": review_message_template(decision=decision, registration=obj)},
            )
            if needs_message
            else None
        )
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                self._decide(request, obj, decision, form.cleaned_data["message"] if form else "")
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, _("Done. The resident has been told."), messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        titles = {
            "registered": _("Mark registered"),
            "correction": _("Request correction"),
            "reject": _("Reject"),
        }
        if decision not in titles:
            raise Http404
        return TemplateResponse(
            request,
            "admin/registration/registration/review.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": obj,
                "title": f"{titles[decision]}: {obj.reference}",
                "form": form,
                "decision": decision,
                "resident_language": obj.resident.get_preferred_language_display(),
                "change_url": change_url,
                "queryset": [obj],
            },
        )

    # -- bulk actions ---------------------------------------------------------
    def _bulk(self, request, queryset, decision, message=""):
        done, failed = 0, 0
        for obj in queryset:
            try:
                self._decide(request, obj, decision, message)
                done += 1
            except ValidationError:
                failed += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration updated; the resident was told.",
                    "%(count)d registrations updated; the residents were told.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        if failed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration could not change to that status.",
                    "%(count)d registrations could not change to that status.",
                    failed,
                )
                % {"count": failed},
                messages.WARNING,
            )

    @admin.action(description=_("Mark registered"), permissions=["review"])
    def mark_registered(self, request, queryset):
        self._bulk(request, queryset, "registered")

    def _bulk_with_message(self, request, queryset, decision, title):
        form = StaffMessageForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._bulk(request, queryset, decision, form.cleaned_data["message"])
            return None
        return TemplateResponse(
            request,
            "admin/registration/registration/review.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "form": form,
                "decision": decision,
                "queryset": queryset,
                "action": request.POST.get("action"),
                "bulk": True,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Request correction…"), permissions=["review"])
    def request_correction(self, request, queryset):
        return self._bulk_with_message(request, queryset, "correction", _("Request correction"))

    @admin.action(description=_("Reject…"), permissions=["review"])
    def reject(self, request, queryset):
        return self._bulk_with_message(request, queryset, "reject", _("Reject"))

    @admin.action(
        description=_("Erase personal data (the resident's request)"), permissions=["review"]
    )
    def erase_personal_data(self, request, queryset):
        """
        Erase the selected registrations the resident asked to delete. ``queryset`` is the
        changelist's, scoped to the user's stations; the service erases nothing of another
        station and refuses a registration without a deletion request.
        """
        erased = 0
        refused = {ErrorCode.ERASE_NOT_REQUESTED: 0, ErrorCode.ERASE_ACTIVE: 0}
        for obj in queryset.select_related("resident", "station"):
            try:
                erased += services.resident_erase(registration=obj, actor=request.user)
            except ValidationError as error:
                refused[error.code] = refused.get(error.code, 0) + 1
        if erased:
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration erased.", "%(count)d registrations erased.", erased
                )
                % {"count": erased},
                messages.SUCCESS,
            )
        if refused[ErrorCode.ERASE_NOT_REQUESTED]:
            count = refused[ErrorCode.ERASE_NOT_REQUESTED]
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration was not erased: the resident has not asked for "
                    "deletion. Personal data is erased only at the resident's request "
                    "(through their private link) or by the retention rules.",
                    "%(count)d registrations were not erased: the residents have not asked for "
                    "deletion. Personal data is erased only at the resident's request "
                    "(through their private link) or by the retention rules.",
                    count,
                )
                % {"count": count},
                messages.ERROR,
            )
        if refused[ErrorCode.ERASE_ACTIVE]:
            count = refused[ErrorCode.ERASE_ACTIVE]
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration is still active: end it before erasing.",
                    "%(count)d registrations are still active: end them before erasing.",
                    count,
                )
                % {"count": count},
                messages.WARNING,
            )

    def has_review_permission(self, request):
        return request.user.has_perm(REVIEW_PERMISSION)


@admin.register(Resident)
class ResidentAdmin(
    AuditedLooksAdminMixin, StationScopedAdminMixin, ReadOnlyScopedHistoryMixin, SimpleHistoryAdmin
):
    list_display = ["__str__", "nationality", "phone", "preferred_language", "created_at"]
    search_fields = ["surname", "given_names", "chinese_name"]
    list_filter = ["preferred_language", "preferred_channel", "contact_consent"]
    readonly_fields = ["document_number_index", "created_at", "updated_at"]
    # The confirmed-same-person link changes only through the registration's review page.
    SAME_PERSON_FIELDS = ["same_person_as", "same_person_confirmed_by", "same_person_confirmed_at"]
    exclude = SAME_PERSON_FIELDS

    station_field = "registrations__station"

    def scope_queryset(self, request, queryset):
        if user_sees_all_stations(request.user):
            return queryset
        # A resident belongs to every station they registered at.
        return queryset.filter(
            registrations__station__in=stations_for_user(request.user)
        ).distinct()

    @staticmethod
    def _holding_station_ids(resident) -> set[int]:
        """Return the stations holding a registration of ``resident``, anonymised or not."""
        return set(
            Registration.objects.filter(resident=resident)
            .order_by()
            .values_list("station_id", flat=True)
            .distinct()
        )

    def history_visible(self, request, obj) -> bool:
        """
        Show a resident's history only to city administrators and to staff of every station
        that holds the resident (any registration, even anonymised).

        A resident's past versions hold what each station was told at the time: after a move
        from station A to B, the versions of A's time (name, contact, travel document, date
        of birth) are A's data, and B's officer must not read them. Splitting the versions
        by station would need a rule for whom each version belongs to (one written while
        both held the resident belongs to both) and would leak through the differences
        between versions; refusing the whole history unless the user sees every station
        concerned cannot leak. Staff of B still see the resident's current record and the
        history of B's own registrations. An anonymised registration counts: the resident's
        history keeps that station's era until the resident is anonymised.
        """
        if user_sees_all_stations(request.user):
            return True
        return self._holding_station_ids(obj) <= set(station_ids_for_user(request.user))

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # A resident tracks no foreign key: simple-history's select_related() without fields
        # is deprecated.
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user")

    def audit_stations(self, request, obj) -> list:
        """Return the stations holding the resident that the user sees: the page is theirs."""
        holding = self._holding_station_ids(obj)
        if not user_sees_all_stations(request.user):
            holding &= set(station_ids_for_user(request.user))
        return list(Station.objects.filter(pk__in=holding).order_by("pk"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, unquote(object_id))
        # The "History" link only where the history page answers.
        extra_context["history_visible"] = obj is not None and self.history_visible(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_search_results(self, request, queryset, search_term):
        result, dup = super().get_search_results(request, queryset, search_term)
        index = document_number_index(search_term)
        if index:
            result = result | queryset.filter(document_number_index=index)
        return result, dup

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        if request.user.has_perm("registration.change_resident") and user_sees_all_stations(
            request.user
        ):
            return self.readonly_fields
        return [
            f.name for f in self.model._meta.fields if f.name not in self.SAME_PERSON_FIELDS
        ] + ["created_at", "updated_at"]
