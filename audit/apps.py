"""The staff audit trail: who looked at or decided what, when."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

GROUP_PERMISSIONS = {
    "Station manager": ["audit.view_auditentry"],
    "City administrator": ["audit.view_auditentry"],
}


def grant_group_permissions(sender, **kwargs):
    from stations.services import group_permissions_grant

    for group_name, permissions in GROUP_PERMISSIONS.items():
        group_permissions_grant(group_name=group_name, permissions=permissions)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        post_migrate.connect(grant_group_permissions, sender=self)
