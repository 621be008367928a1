"""Application configuration of the wiring itself."""

from django.contrib.admin.apps import AdminConfig


class LinliAdminConfig(AdminConfig):
    """Use Linli's admin site (titles, dashboard) as ``admin.site``."""

    default_site = "config.admin.LinliAdminSite"
