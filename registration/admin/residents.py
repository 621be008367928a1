"""
Residents in the admin: read-only for station staff; a city administrator may correct a
record (``services.resident_staff_update``). A resident's history shows only to those
who see every station that holds them.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from simple_history.admin import SimpleHistoryAdmin

from privacy.admin_audit import AuditedLooksAdminMixin
from registration import services
from registration.admin.history import ReadOnlyScopedHistoryMixin
from registration.models import Resident
from registration.selectors import document_number_index, resident_station_ids
from stations.admin_scoping import StationScopedAdminMixin
from stations.models import Station
from stations.selectors import station_ids_for_user, stations_for_user, user_sees_all_stations


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
        return resident_station_ids(resident=obj) <= set(station_ids_for_user(request.user))

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # A resident tracks no foreign key: simple-history's select_related() without fields
        # is deprecated.
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user")

    def audit_stations(self, request, obj) -> list:
        """Return the stations holding the resident that the user sees: the page is theirs."""
        holding = resident_station_ids(resident=obj)
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

    def save_model(self, request, obj, form, change):
        # Only a city administrator's form is editable (get_readonly_fields).
        services.resident_staff_update(resident=obj, actor=request.user)
