"""Admin of stations: scoped by ``stations_for_user``; only managers and city admins change."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import IntegerField, OuterRef, Subquery, Sum
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.site_url import site_url_problems
from stations import billboards
from stations.constants import BillboardPurpose, BillboardSize, QrTarget
from stations.forms import BillboardBatchForm, StationAdminForm
from stations.models import Station, StationMembership, StationText, StationVisitDay
from stations.selectors import (
    station_visits_recent,
    station_visits_recent_by_purpose,
    stations_for_user,
    user_manages,
    user_sees_all_stations,
)
from stations.services import station_membership_remove, station_membership_set
from stations.visits import visits_pending


def _may_manage(request, obj) -> bool:
    if obj is None:
        return True
    return user_sees_all_stations(request.user) or user_manages(request.user, obj)


def _print_check() -> dict:
    """Return the template context of the warning shown where billboards are printed."""
    return {"site_url": settings.SITE_URL, "site_url_problems": site_url_problems()}


class ManagedInlineMixin:
    """Inlines editable only by a manager of the station (or a city administrator)."""

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and _may_manage(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _may_manage(request, obj)


class StationTextInline(ManagedInlineMixin, admin.StackedInline):
    model = StationText
    extra = 0
    min_num = 1
    fields = ["language", "name", "address", "opening_hours", "area_served", "address_help"]


class StationMembershipInline(ManagedInlineMixin, admin.TabularInline):
    model = StationMembership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    form = StationAdminForm
    list_display = [
        "code",
        "display_name",
        "district",
        "is_active",
        "visits_today",
        "qr_preview",
        "files",
    ]
    list_filter = ["is_active", "district"]
    search_fields = ["code", "district", "texts__name", "texts__address"]
    inlines = [StationTextInline, StationMembershipInline]
    readonly_fields = ["qr_preview_large", "files", "visits_recent"]
    actions = ["print_billboards"]
    fieldsets = [
        (None, {"fields": ["code", "district", "is_active"]}),
        (_("Contact"), {"fields": ["phone", "email", "wechat_id", "languages_spoken"]}),
        (
            _("QR codes and billboards"),
            {"fields": ["billboard_languages", "qr_preview_large", "files"]},
        ),
        (_("Visits"), {"fields": ["visits_recent"]}),
    ]

    def get_queryset(self, request):
        today_visits = (  # one row per purpose: their sum
            StationVisitDay.objects.filter(station=OuterRef("pk"), day=timezone.localdate())
            .order_by()
            .values("station")
            .annotate(total=Sum("count"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=stations_for_user(request.user).values("pk"))
            .prefetch_related("texts")
            .annotate(stored_visits_today=Subquery(today_visits, output_field=IntegerField()))
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:  # another station's (or no) station: not found, whoever asks
            raise Http404(_("There is no station with this code."))
        return obj

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # nothing to show about QR codes or visits before the station exists
            return [*self.fieldsets[:2], (_("Billboards"), {"fields": ["billboard_languages"]})]
        return self.fieldsets

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _may_manage(request, obj)

    # --- pages that offer billboards warn when their QR codes would lead nowhere ---------
    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), **_print_check()})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **_print_check()}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- columns -------------------------------------------------------------------------
    @admin.display(description=_("name"))
    def display_name(self, obj):
        return obj.name

    @admin.display(description=_("visits today"))
    def visits_today(self, obj):
        stored = getattr(obj, "stored_visits_today", None) or 0
        pending = visits_pending([obj.code], timezone.localdate()).get(obj.code, 0)
        return stored + pending

    @admin.display(description=_("QR code"))
    def qr_preview(self, obj):
        return format_html(
            '<img src="{}" width="64" height="64" alt="{}" loading="lazy">',
            reverse("stations:qr_station_svg", kwargs={"code": obj.code}),
            _("QR code of the station page"),
        )

    @admin.display(description=_("QR code of the station page"))
    def qr_preview_large(self, obj):
        return format_html(
            '<img src="{}" width="160" height="160" alt="{}">',
            reverse("stations:qr_station_svg", kwargs={"code": obj.code}),
            _("QR code of the station page"),
        )

    @admin.display(description=_("QR codes and billboards"))
    def files(self, obj):
        links = []
        labels = {
            QrTarget.STATION: _("Station page"),
            QrTarget.REGISTER: _("Registration form"),
            QrTarget.HELP: _("Help form"),
        }
        # Every link downloads a file with a name that says what it is: the PDFs and the
        # poster under the name their view gives them, QR codes under one made here (their
        # URLs all end in qr.svg or qr.png).
        for target, label in labels.items():
            for fmt in ("svg", "png"):
                url = reverse(f"stations:qr_{target}_{fmt}", kwargs={"code": obj.code})
                name = f"linli-qr-{obj.code}-{target}.{fmt}"
                links.append((url, name, f"{label} · QR {fmt.upper()}"))
        billboard = reverse("stations:billboard", kwargs={"code": obj.code})
        for size in BillboardSize.values:
            links.append(
                (f"{billboard}?size={size}", "", _("Billboard %(size)s (PDF)") % {"size": size})
            )
        links.append(
            (
                reverse("stations:poster", kwargs={"code": obj.code}),
                "",
                _("Poster for WeChat (PNG)"),
            )
        )
        return format_html(
            '<ul class="linli-files">{}</ul>',
            format_html_join("", '<li><a href="{}" download="{}">{}</a></li>', links),
        )

    @admin.display(description=_("Station page visits, last 30 days"))
    def visits_recent(self, obj):
        rows = station_visits_recent(obj, days=30)
        by_purpose = station_visits_recent_by_purpose(obj, days=30)
        total = sum(count for _day, count in rows)
        summary = ngettext(
            "%(count)s visit in the last 30 days.", "%(count)s visits in the last 30 days.", total
        ) % {"count": total}
        table = format_html_join(
            "",
            "<tr><td>{}</td>" + "<td>{}</td>" * (len(QrTarget) + 1) + "</tr>",
            (
                (day.isoformat(), *(by_purpose[day].get(p, 0) for p in QrTarget.values), count)
                for day, count in rows
                if count
            ),
        )
        head = format_html_join("", "<th>{}</th>", ((label,) for label in QrTarget.labels))
        return format_html(
            "<p>{}</p><table><thead><tr><th>{}</th>{}<th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            summary,
            _("day"),
            head,
            _("visits"),
            table,
        )

    # --- memberships go through the service (staff flag and group) ----------------------
    def save_formset(self, request, form, formset, change):
        if formset.model is not StationMembership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        for membership in formset.deleted_objects:
            station_membership_remove(membership=membership)
        for membership in memberships:
            station_membership_set(
                user=membership.user, station=form.instance, role=membership.role
            )
        return None

    # --- batch printing ------------------------------------------------------------------
    @admin.action(description=_("Print billboards of the selected stations (one PDF)"))
    def print_billboards(self, request, queryset):
        form = BillboardBatchForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            size, purpose = form.cleaned_data["size"], form.cleaned_data["purpose"]
            built = billboards.build_pdf(queryset.order_by("code"), size, purpose)
            response = HttpResponse(built.content, content_type="application/pdf")
            response["Content-Disposition"] = (
                f'attachment; filename="linli-billboards-{size}-{purpose}.pdf"'
            )
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": _("Print billboards"),
            "opts": self.model._meta,
            "form": form,
            "stations": queryset,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "purposes": BillboardPurpose.choices,
            **_print_check(),
        }
        return TemplateResponse(request, "admin/stations/station/billboard_batch.html", context)
