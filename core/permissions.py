"""
Staff groups' permissions, granted after every ``migrate`` by the app owning the models.

Each app declares ``GROUP_PERMISSIONS`` (group name → ``"app_label.codename"`` list) in
its ``apps.py`` and calls ``group_permissions_on_migrate`` from ``ready``: the groups
created by the stations app learn every app's permissions without importing them.
"""

from django.apps import apps
from django.db.models.signals import post_migrate


def group_permissions_grant(*, group_name: str, permissions: list[str]) -> None:
    """Give the group ``group_name`` the permissions ``"app_label.codename"`` (if they exist)."""
    # Looked up through the registry: apps.py files import this module before models load.
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _created = group_model.objects.get_or_create(name=group_name)
    found = permission_model.objects.none()
    for app_label, codename in (p.split(".", 1) for p in permissions):
        found = found | permission_model.objects.filter(
            content_type__app_label=app_label, codename=codename
        )
    group.permissions.add(*found)


def group_permissions_on_migrate(app_config, group_permissions: dict[str, list[str]]) -> None:
    """Grant ``group_permissions`` each time ``app_config``'s migrations have run."""

    def grant(sender, **kwargs):
        for group_name, permissions in group_permissions.items():
            group_permissions_grant(group_name=group_name, permissions=permissions)

    post_migrate.connect(
        grant, sender=app_config, weak=False, dispatch_uid=f"{app_config.label}.group_permissions"
    )
