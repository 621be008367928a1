"""Linli's admin site: the staff workspace."""

from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from config.dashboard import dashboard_figures


class LinliAdminSite(admin.AdminSite):
    """
    Admin site with Linli's titles; the dashboard gathers figures from each app.

    Login is password first (refused by django-axes after repeated failures), then, where
    ``LINLI_REQUIRE_2FA`` is on (production), the second factor on ``/admin/2fa/``: until
    it is passed the user is anonymous to every view (config.middleware).
    """

    site_header = _("Linli staff workspace")
    site_title = _("Linli")
    index_title = _("Today's work")

    def index(self, request, extra_context=None):
        """Show the day's work of the user's stations above the list of models."""
        extra_context = {**(extra_context or {}), "dashboard": dashboard_figures(request.user)}
        return super().index(request, extra_context=extra_context)

    def get_urls(self):
        from config import twofactor

        return [
            path("2fa/", twofactor.verify, name="twofactor"),
            path("2fa/setup/", twofactor.setup, name="twofactor_setup"),
            path("2fa/logout/", twofactor.logout, name="twofactor_logout"),
            *super().get_urls(),
        ]

    def login(self, request, extra_context=None):
        if settings.LINLI_REQUIRE_2FA and self._password_checked_only(request):
            return self._second_factor(request)
        response = super().login(request, extra_context)
        if (
            settings.LINLI_REQUIRE_2FA
            and request.method == "POST"
            and response.status_code == 302
            and request.user.is_authenticated
        ):
            return self._second_factor(request)
        return response

    @staticmethod
    def _password_checked_only(request) -> bool:
        pending = getattr(request, "otp_pending_user", None)
        return bool(pending is not None and pending.is_authenticated and not pending.is_verified())

    @staticmethod
    def _second_factor(request):
        next_url = request.POST.get("next") or request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('admin:twofactor')}?{urlencode({'next': next_url})}")
