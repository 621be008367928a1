"""
Privacy of residents' personal data, across apps: the staff audit trail (who looked at or
decided what, when), the retention rules that delete what is no longer needed, and the
privacy notice residents agree to.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.permissions import group_permissions_on_migrate
from stations.constants import GROUP_CITY_ADMIN, GROUP_MANAGER

GROUP_PERMISSIONS = {
    GROUP_MANAGER: ["privacy.view_auditentry"],
    GROUP_CITY_ADMIN: ["privacy.view_auditentry"],
}


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy and audit")

    def ready(self):
        group_permissions_on_migrate(self, GROUP_PERMISSIONS)
