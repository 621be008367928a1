"""
The review in the admin: a registration's decision page, the bulk decisions, erasure at
the resident's request, the same-person confirmation and the receipt's QR link.

Each view or action translates the request into one service call
(``registration_decide``, ``registration_decide_many``, ``resident_erase_many``,
``resident_match_confirm``), which applies the status rules, writes the history and the
audit trail and tells the resident.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from registration import services
from registration.constants import DECISIONS_WITH_MESSAGE, Decision, ErrorCode
from registration.forms import StaffMessageForm
from registration.models import Resident
from registration.selectors import reference_normalise

REVIEW_PERMISSION = "registration.review_registration"

# Starting points for the message staff send; written out in the resident's language and
# edited by staff before sending.
REVIEW_MESSAGE_TEMPLATES = {
    Decision.CORRECTION: _(
        "Please check your registration %(reference)s and correct the following "
        "through your private link: "
    ),
    Decision.REJECT: _("We cannot register your stay %(reference)s for this reason: "),
}


def review_message_template(*, decision: str, registration) -> str:
    """Return the message template of ``decision`` in the resident's preferred language."""
    template = REVIEW_MESSAGE_TEMPLATES.get(decision)
    if template is None:
        return ""
    with translation.override(registration.resident.preferred_language):
        return str(template) % {"reference": registration.reference}


def _decision_or_404(value: str) -> Decision:
    """Return the ``Decision`` named in the URL; any other word is no page."""
    try:
        return Decision(value)
    except ValueError:
        raise Http404 from None


class RegistrationReviewMixin:
    """The review pages and actions of ``RegistrationAdmin``."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/review/<str:decision>/",
                view(self.review_view),
                name=f"{info[0]}_{info[1]}_review",
            ),
            path(
                "<int:object_id>/same-person/<int:resident_id>/",
                view(self.same_person_view),
                name=f"{info[0]}_{info[1]}_same_person",
            ),
            path(
                "by-reference/<str:reference>/",
                view(self.by_reference_view),
                name=f"{info[0]}_{info[1]}_by_reference",
            ),
            *super().get_urls(),
        ]

    def by_reference_view(self, request, reference):
        """Open the registration of a reference (the receipt's QR code), if the user may."""
        obj = self.get_queryset(request).filter(reference=reference_normalise(reference)).first()
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        return HttpResponseRedirect(
            reverse("admin:registration_registration_change", args=[obj.pk])
        )

    def same_person_view(self, request, object_id, resident_id):
        """Confirm a suggested earlier record as the same person (POST, reviewers only)."""
        if request.method != "POST" or not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        # Any other record answers like one of another station: the service refuses both.
        other = Resident.objects.filter(pk=resident_id).first() or Resident(pk=resident_id)
        try:
            services.resident_match_confirm(
                registration=obj, other_resident=other, actor=request.user
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request, _("Confirmed: both records are the same person."), messages.SUCCESS
            )
        return HttpResponseRedirect(
            reverse("admin:registration_registration_change", args=[obj.pk])
        )

    def review_view(self, request, object_id, decision):
        """Mark registered, request a correction or reject one registration."""
        if not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        decision = _decision_or_404(decision)
        change_url = reverse("admin:registration_registration_change", args=[obj.pk])
        form = (
            StaffMessageForm(
                request.POST or None,
                initial={"message": review_message_template(decision=decision, registration=obj)},
            )
            if decision in DECISIONS_WITH_MESSAGE
            else None
        )
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                services.registration_decide(
                    registration=obj,
                    actor=request.user,
                    decision=decision,
                    message=form.cleaned_data["message"] if form else "",
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, _("Done. The resident has been told."), messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/registration/registration/review.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": obj,
                "title": f"{decision.label}: {obj.reference}",
                "form": form,
                "decision": decision,
                "resident_language": obj.resident.get_preferred_language_display(),
                "change_url": change_url,
                "queryset": [obj],
            },
        )

    # -- bulk actions ---------------------------------------------------------
    def _bulk(self, request, queryset, decision, message=""):
        done, failed = services.registration_decide_many(
            registrations=queryset, actor=request.user, decision=decision, message=message
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration updated; the resident was told.",
                    "%(count)d registrations updated; the residents were told.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        if failed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration could not change to that status.",
                    "%(count)d registrations could not change to that status.",
                    failed,
                )
                % {"count": failed},
                messages.WARNING,
            )

    @admin.action(description=_("Mark registered"), permissions=["review"])
    def mark_registered(self, request, queryset):
        self._bulk(request, queryset, Decision.REGISTERED)

    def _bulk_with_message(self, request, queryset, decision):
        form = StaffMessageForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._bulk(request, queryset, decision, form.cleaned_data["message"])
            return None
        return TemplateResponse(
            request,
            "admin/registration/registration/review.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": decision.label,
                "form": form,
                "decision": decision,
                "queryset": queryset,
                "action": request.POST.get("action"),
                "bulk": True,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Request correction…"), permissions=["review"])
    def request_correction(self, request, queryset):
        return self._bulk_with_message(request, queryset, Decision.CORRECTION)

    @admin.action(description=_("Reject…"), permissions=["review"])
    def reject(self, request, queryset):
        return self._bulk_with_message(request, queryset, Decision.REJECT)

    @admin.action(
        description=_("Erase personal data (the resident's request)"), permissions=["review"]
    )
    def erase_personal_data(self, request, queryset):
        """
        Erase the selected registrations the resident asked to delete. ``queryset`` is the
        changelist's, scoped to the user's stations; the service erases nothing of another
        station and refuses a registration without a deletion request.
        """
        erased = services.resident_erase_many(
            registrations=queryset.select_related("resident", "station"), actor=request.user
        )
        if erased.count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration erased.",
                    "%(count)d registrations erased.",
                    erased.count,
                )
                % {"count": erased.count},
                messages.SUCCESS,
            )
        if count := erased.refused.get(ErrorCode.ERASE_NOT_REQUESTED, 0):
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration was not erased: the resident has not asked for "
                    "deletion. Personal data is erased only at the resident's request "
                    "(through their private link) or by the retention rules.",
                    "%(count)d registrations were not erased: the residents have not asked for "
                    "deletion. Personal data is erased only at the resident's request "
                    "(through their private link) or by the retention rules.",
                    count,
                )
                % {"count": count},
                messages.ERROR,
            )
        if count := erased.refused.get(ErrorCode.ERASE_ACTIVE, 0):
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration is still active: end it before erasing.",
                    "%(count)d registrations are still active: end them before erasing.",
                    count,
                )
                % {"count": count},
                messages.WARNING,
            )

    def has_review_permission(self, request):
        return request.user.has_perm(REVIEW_PERMISSION)
