"""Expat service stations and their staff, station pages, QR codes and billboards."""

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _

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


def grant_group_permissions(sender, **kwargs):
    from stations.services import group_permissions_grant

    for group_name, permissions in GROUP_PERMISSIONS.items():
        group_permissions_grant(group_name=group_name, permissions=permissions)


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = _("Stations")

    def ready(self):
        from stations import signals
        from stations.models import Station, StationText

        post_migrate.connect(grant_group_permissions, sender=self)
        for model in (Station, StationText):
            post_save.connect(signals.station_changed, sender=model, dispatch_uid=f"{model}-save")
            post_delete.connect(
                signals.station_changed, sender=model, dispatch_uid=f"{model}-delete"
            )
