"""Delivery of messages to residents and staff: outbox, channels, retries."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.permissions import group_permissions_on_migrate
from notifications import checks  # noqa: F401  (registers the system checks on import)
from stations.constants import GROUP_CITY_ADMIN, GROUP_MANAGER, GROUP_OFFICER

# Staff see the outbox of their station and may send a failed message again or cancel one
# (the admin actions need "change"); nobody adds or deletes messages by hand.
GROUP_PERMISSIONS = {
    GROUP_OFFICER: ["notifications.view_message", "notifications.change_message"],
    GROUP_MANAGER: ["notifications.view_message", "notifications.change_message"],
    GROUP_CITY_ADMIN: ["notifications.view_message", "notifications.change_message"],
}


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        group_permissions_on_migrate(self, GROUP_PERMISSIONS)
