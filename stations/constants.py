"""Choices and codes of the stations app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MembershipRole(models.TextChoices):
    OFFICER = "officer", _("station officer")
    MANAGER = "manager", _("station manager")


# Names of the auth groups created by the data migration. They are data, not copy: the
# admin shows them translated through GROUP_LABELS.
GROUP_OFFICER = "Station officer"
GROUP_MANAGER = "Station manager"
GROUP_CITY_ADMIN = "City administrator"
GROUP_LABELS = {
    GROUP_OFFICER: _("station officer"),
    GROUP_MANAGER: _("station manager"),
    GROUP_CITY_ADMIN: _("city administrator"),
}

# Codes are printed on billboards for years: lowercase letters, digits and hyphens.
STATION_CODE_REGEX = r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$"
STATION_LABEL = pgettext_lazy("expat service station", "Station")
