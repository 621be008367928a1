"""Read-only admin of the audit trail."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.export import AuditedCsvExportAdminMixin
from privacy.models import AuditEntry
from privacy.selectors import audit_entries_for_user
from stations.admin_scoping import StationScopedAdminMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditedCsvExportAdminMixin, StationScopedAdminMixin, admin.ModelAdmin):
    list_display = ["at", "username", "action", "station", "object_repr", "detail"]
    list_filter = ["action", "station"]
    search_fields = ["username", "object_repr", "object_id"]
    date_hierarchy = "at"
    show_full_result_count = False
    list_select_related = ["station"]
    export_filename = "audit"
    export_fields = [
        (_("time"), "at"),
        (_("user name"), "username"),
        (_("action"), "get_action_display"),
        (_("station"), "station.code"),
        (_("object"), "object_repr"),
        (_("detail"), "detail"),
    ]

    def get_queryset(self, request):
        # The station's name comes from its texts: fetched once, not once per row.
        return super().get_queryset(request).prefetch_related("station__texts")

    def export_queryset(self, request):
        # The list as it was when the export began: not the entry recording this export.
        started = timezone.now()
        return super().export_queryset(request).filter(at__lt=started)

    def scope_queryset(self, request, queryset):
        return queryset & audit_entries_for_user(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
