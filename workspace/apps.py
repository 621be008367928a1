"""
The staff workspace: what staff see around the admin's model pages.

Today it owns two-step sign-in (django-otp): the second-factor prompt, enrolment of a first
authenticator app with a one-time enrolment code, recovery codes, and the managers' list
of their staff's sign-in with "issue an enrolment code" and "reset a lost device".
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = _("Staff workspace")

    def ready(self):
        from workspace import checks  # noqa: F401  (registers the deploy check)
