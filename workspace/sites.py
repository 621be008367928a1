"""Linli's admin site, the staff workspace: titles, the dashboard and two-step sign-in."""

from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from notifications.services import staff_notification_mark_read
from workspace.dashboard import dashboard_figures


class TwoFactorLoginMixin:
    """
    Mix into the ``AdminSite``: where ``LINLI_REQUIRE_2FA`` is on, a right password leads
    to the second-factor page (``/admin/2fa/``), and so does the login page for a user who
    has only passed the password. Until the second factor the user is anonymous to every
    view (workspace.middleware).
    """

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
        return redirect(f"{reverse('workspace:twofactor')}?{urlencode({'next': next_url})}")


class LinliAdminSite(TwoFactorLoginMixin, admin.AdminSite):
    """
    Admin site with Linli's titles; the dashboard gathers figures from each app.

    Login is password first (refused by django-axes after repeated failures), then, where
    ``LINLI_REQUIRE_2FA`` is on (production), the second factor on ``/admin/2fa/``: until
    it is passed the user is anonymous to every view.
    """

    site_header = _("Linli staff workspace")
    site_title = _("Linli")
    index_title = _("Today's work")

    def get_urls(self):
        return [
            path(
                "notifications/<int:pk>/read/",
                self.admin_view(self.notification_read),
                name="notification_read",
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def notification_read(self, request, pk: int):
        """Mark one of the user's workspace notifications as read, back to the dashboard."""
        staff_notification_mark_read(user=request.user, message_id=pk)
        return redirect("admin:index")

    def index(self, request, extra_context=None):
        """Show the day's work of the user's stations above the list of models."""
        extra_context = {**(extra_context or {}), "dashboard": dashboard_figures(request.user)}
        return super().index(request, extra_context=extra_context)
