"""
Station scoping for every admin of every app: one rule (``stations_for_user``), one place.

A ``ModelAdmin`` that shows station data mixes in ``StationScopedAdminMixin`` and names the
path from its model to the station (``station_field = "registration__station"``). Lists,
change pages, searches, autocompletes, filters and actions then see only the user's
stations; another station's object by URL is a 404 (``get_queryset`` does not contain it).
Bulk actions run on the changelist's queryset, so they too touch only the user's stations.
History pages answer only for visible objects, and only when ``history_visible`` allows
(stricter for objects shared by several stations).

It lives in stations, not in core: which rows a user sees follows from who staffs which
station (``stations_for_user``), a rule the stations app owns. Only the generic parts
(``core.paginators``, ``core.export``) are infrastructure.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from core.paginators import EstimatedCountPaginator
from stations.models import Station
from stations.selectors import station_ids_for_user, stations_for_user, user_sees_all_stations


class StationListFilter(admin.SimpleListFilter):
    """Filter by station (``?station=<pk>``), offering only the stations the user may see."""

    title = _("station")
    parameter_name = "station"

    def __init__(self, request, params, model, model_admin):
        self.station_field = getattr(model_admin, "station_field", "station")
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [(str(s.pk), s.name) for s in stations_for_user(request.user).with_texts()]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{self.station_field: value})
        return queryset


class StationScopedAdminMixin:
    """Limit a ModelAdmin to the objects of the stations the user may see."""

    #: Lookup path from the model to its station, e.g. "station" or "registration__station".
    station_field = "station"
    # Lists cost the same few queries at any size: no full COUNT(*) of a large table.
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def scope_queryset(self, request, queryset):
        if user_sees_all_stations(request.user):
            return queryset
        return queryset.filter(**{f"{self.station_field}__in": station_ids_for_user(request.user)})

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another station's object is "not found", not "moved": no hint that it exists.
        raise Http404

    def history_visible(self, request, obj) -> bool:
        """
        Return whether the user may read ``obj``'s history, beyond seeing ``obj`` itself.

        True by default: an object of one station has one station's past. An object shared
        by several stations (a resident) overrides it, since its past holds what the other
        stations were told.
        """
        return True

    def _require_history_visible(self, request, object_id) -> None:
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.history_visible(request, obj):
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        # Django's and django-simple-history's history pages look objects up themselves.
        self._require_history_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._require_history_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Station:
            kwargs["queryset"] = stations_for_user(request.user).prefetch_related("texts")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        """Replace a plain filter on the station field by the scoped one."""
        filters = []
        for item in super().get_list_filter(request):
            if item == self.station_field:
                filters.append(StationListFilter)
            else:
                filters.append(item)
        return filters
