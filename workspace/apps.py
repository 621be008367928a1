"""
The staff workspace: the admin site and what staff see around the admin's model pages.

It owns the admin site (titles and the dashboard of the day's work, gathered from every
app's selectors: the workspace sits above the domain apps, and none of them imports it) and
two-step sign-in (django-otp): the second-factor prompt, enrolment of a first authenticator
app with a one-time enrolment code, recovery codes, and the managers' list of their staff's
sign-in with "issue an enrolment code" and "reset a lost device".
"""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _

from workspace import checks  # noqa: F401  (registers the deploy check on import)


class WorkspaceAdminConfig(admin_apps.AdminConfig):
    """Use Linli's admin site (titles, dashboard, two-step sign-in) as ``admin.site``."""

    default = False  # listed by its path in INSTALLED_APPS; "workspace" means WorkspaceConfig
    default_site = "workspace.sites.LinliAdminSite"


class WorkspaceConfig(AppConfig):
    default = True
    name = "workspace"
    verbose_name = _("Staff workspace")
