"""Reply templates in Django admin: managers keep their station's; shared ones, city admins."""

from django.contrib import admin
from django.db.models import Q

from inquiries.models import ReplyTemplate
from stations.admin_scoping import StationScopedAdminMixin
from stations.constants import MembershipRole
from stations.selectors import stations_for_user, user_manages, user_sees_all_stations


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
