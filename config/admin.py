"""Linli's admin site: the staff workspace."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.dashboard import dashboard_figures
from workspace.sites import TwoFactorLoginMixin


class LinliAdminSite(TwoFactorLoginMixin, admin.AdminSite):
    """
    Admin site with Linli's titles; the dashboard gathers figures from each app.

    Login is password first (refused by django-axes after repeated failures), then, where
    ``LINLI_REQUIRE_2FA`` is on (production), the second factor on ``/admin/2fa/``
    (workspace/): until it is passed the user is anonymous to every view.
    """

    site_header = _("Linli staff workspace")
    site_title = _("Linli")
    index_title = _("Today's work")

    def index(self, request, extra_context=None):
        """Show the day's work of the user's stations above the list of models."""
        extra_context = {**(extra_context or {}), "dashboard": dashboard_figures(request.user)}
        return super().index(request, extra_context=extra_context)
