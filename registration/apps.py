"""Residence registrations of residents, their documents, updates and review."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.permissions import group_permissions_on_migrate
from stations.constants import GROUP_CITY_ADMIN, GROUP_MANAGER, GROUP_OFFICER

_VIEW = [
    "registration.view_resident",
    "registration.view_registration",
    "registration.view_document",
    "registration.view_amendment",
]
_REVIEW = [
    *_VIEW,
    "registration.change_registration",
    "registration.review_registration",
]
GROUP_PERMISSIONS = {
    GROUP_OFFICER: _REVIEW,
    GROUP_MANAGER: _REVIEW,
    GROUP_CITY_ADMIN: [*_REVIEW, "registration.change_resident"],
}


class RegistrationConfig(AppConfig):
    name = "registration"
    verbose_name = _("Residence registration")

    def ready(self):
        # Not at the top: the receivers' module imports models, loaded only once apps are.
        from registration import signals  # noqa: F401

        group_permissions_on_migrate(self, GROUP_PERMISSIONS)
