"""
The staff sign-in list: a manager's or administrator's view of their staff's two-step
verification, with "issue an enrolment code" and "reset a lost device".

django-otp's own device admins are removed: they would show secrets (QR codes, recovery
codes) to any superuser; devices are enrolled and reset only through these actions.
"""

import contextlib

from django.contrib import admin, messages
from django.contrib.admin.sites import NotRegistered
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from stations.models import StationMembership
from workspace.models import StaffMember
from workspace.selectors import (
    staff_signin_for_user,
    staff_signin_with_state,
    user_manages_signin,
)
from workspace.services import enrolment_code_issue, twofactor_reset

for _model in (TOTPDevice, StaticDevice):
    with contextlib.suppress(NotRegistered):
        admin.site.unregister(_model)


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = [
        "username",
        "full_name",
        "stations",
        "has_authenticator",
        "recovery_codes_left",
        "enrolment_code_until",
        "last_login",
    ]
    search_fields = ["username", "first_name", "last_name", "email"]
    list_filter = ["is_active"]
    actions = ["issue_enrolment_codes", "reset_signin"]
    fields = [
        "username",
        "full_name",
        "email",
        "is_active",
        "stations",
        "has_authenticator",
        "recovery_codes_left",
        "enrolment_code_until",
        "last_login",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request):
        memberships = StationMembership.objects.select_related("station").order_by("station__code")
        return staff_signin_with_state(staff_signin_for_user(request.user)).prefetch_related(
            Prefetch("station_memberships", queryset=memberships)
        )

    # Access follows station management (one selector), not model permissions; asked by
    # every admin page's menu, so once per request.
    @staticmethod
    def _manages_signin(request) -> bool:
        if not hasattr(request, "_workspace_manages_signin"):
            request._workspace_manages_signin = user_manages_signin(request.user)
        return request._workspace_manages_signin

    def has_module_permission(self, request):
        return self._manages_signin(request)

    def has_view_permission(self, request, obj=None):
        return self._manages_signin(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Someone else's staff member is "not found", not "moved": no hint that it exists.
        raise Http404

    @admin.display(description=_("name"))
    def full_name(self, obj):
        return obj.get_full_name()

    @admin.display(description=_("stations"))
    def stations(self, obj):
        return ", ".join(m.station.code for m in obj.station_memberships.all())

    @admin.display(description=_("authenticator app"), boolean=True)
    def has_authenticator(self, obj):
        return obj.has_authenticator

    @admin.display(description=_("recovery codes left"))
    def recovery_codes_left(self, obj):
        return obj.recovery_codes_left

    @admin.display(description=_("enrolment code valid until"))
    def enrolment_code_until(self, obj):
        return obj.enrolment_code_until

    def _codes_page(self, request, issued, title):
        response = TemplateResponse(
            request,
            "admin/workspace/staffmember/codes.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "issued": issued,
            },
        )
        add_never_cache_headers(response)  # the codes are shown once, never from a cache
        return response

    @admin.action(description=_("Issue an enrolment code"))
    def issue_enrolment_codes(self, request, queryset):
        if not queryset:
            return None  # nobody this user may act for was selected
        issued, enrolled = [], []
        for member in queryset:
            try:
                raw, code = enrolment_code_issue(user=member, by=request.user)
            except ValidationError:
                enrolled.append(member.get_username())
            except PermissionDenied:
                continue
            else:
                issued.append((member, raw, code.expires_at))
        if enrolled:
            self.message_user(
                request,
                _(
                    "Already set up, no code issued: %(users)s. If a phone was lost, use "
                    "“Reset two-step verification” instead."
                )
                % {"users": ", ".join(enrolled)},
                messages.WARNING,
            )
        if not issued:
            return None
        return self._codes_page(request, issued, _("Enrolment codes"))

    @admin.action(description=_("Reset two-step verification (lost phone)…"))
    def reset_signin(self, request, queryset):
        if not queryset:
            return None  # nobody this user may act for was selected
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/workspace/staffmember/reset_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": _("Reset two-step verification"),
                    "queryset": queryset,
                    "action": request.POST.get("action"),
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        issued = []
        for member in queryset:
            with contextlib.suppress(PermissionDenied):
                raw, code = twofactor_reset(user=member, by=request.user)
                issued.append((member, raw, code.expires_at))
        self.message_user(
            request,
            ngettext(
                "Two-step verification reset for %(count)d staff member: their authenticator "
                "app and recovery codes no longer work.",
                "Two-step verification reset for %(count)d staff members: their authenticator "
                "apps and recovery codes no longer work.",
                len(issued),
            )
            % {"count": len(issued)},
            messages.SUCCESS,
        )
        return self._codes_page(request, issued, _("Enrolment codes"))
