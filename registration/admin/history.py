"""
A registration's timeline and the history pages: both read-only, for every model here.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from registration.models import Amendment


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
