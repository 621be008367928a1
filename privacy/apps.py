"""
Privacy of residents' personal data, across apps: the staff audit trail (who looked at or
decided what, when), the retention rules that delete what is no longer needed, and the
privacy notice residents agree to.
"""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

GROUP_PERMISSIONS = {
    "Station manager": ["privacy.view_auditentry"],
    "City administrator": ["privacy.view_auditentry"],
}


def grant_group_permissions(sender, **kwargs):
    from stations.services import group_permissions_grant

    for group_name, permissions in GROUP_PERMISSIONS.items():
        group_permissions_grant(group_name=group_name, permissions=permissions)


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy and audit")

    def ready(self):
        post_migrate.connect(grant_group_permissions, sender=self)
