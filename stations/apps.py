"""Expat service stations and their staff, station pages, QR codes and billboards."""

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from core.permissions import group_permissions_on_migrate
from stations.constants import GROUP_CITY_ADMIN, GROUP_MANAGER, GROUP_OFFICER

GROUP_PERMISSIONS = {
    GROUP_OFFICER: [
        "stations.view_station",
        "stations.view_stationtext",
        "stations.view_stationvisitday",
    ],
    GROUP_MANAGER: [
        "stations.view_station",
        "stations.change_station",
        "stations.view_stationtext",
        "stations.add_stationtext",
        "stations.change_stationtext",
        "stations.view_stationmembership",
        "stations.add_stationmembership",
        "stations.change_stationmembership",
        "stations.delete_stationmembership",
        "stations.view_stationvisitday",
    ],
    GROUP_CITY_ADMIN: [
        "stations.view_all_stations",
        "stations.view_station",
        "stations.add_station",
        "stations.change_station",
        "stations.view_stationtext",
        "stations.add_stationtext",
        "stations.change_stationtext",
        "stations.delete_stationtext",
        "stations.view_stationmembership",
        "stations.add_stationmembership",
        "stations.change_stationmembership",
        "stations.delete_stationmembership",
        "stations.view_stationvisitday",
    ],
}


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = _("Stations")

    def ready(self):
        # Not at the top: models (and the services the receivers call) load only once apps are.
        from stations import signals
        from stations.models import Station, StationText

        group_permissions_on_migrate(self, GROUP_PERMISSIONS)
        for model in (Station, StationText):
            post_save.connect(signals.station_changed, sender=model, dispatch_uid=f"{model}-save")
            post_delete.connect(
                signals.station_changed, sender=model, dispatch_uid=f"{model}-delete"
            )
