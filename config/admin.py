"""Linli's admin site: the staff workspace."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class LinliAdminSite(admin.AdminSite):
    """Admin site with Linli's titles; the dashboard gathers figures from each app."""

    site_header = _("Linli staff workspace")
    site_title = _("Linli")
    index_title = _("Today's work")
