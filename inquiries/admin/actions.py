"""
Admin actions of the inquiries app: each calls one service and reports what happened.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inquiries.selectors import staff_for_stations
from inquiries.services import check_in_round_send_request, inquiries_assign
from stations.selectors import user_manages


# ------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------
@admin.action(description=_("Assign to me"), permissions=["change"])
def assign_to_me(modeladmin, request, queryset):
    try:
        count = inquiries_assign(inquiries=queryset, assignee=request.user, by=request.user)
    except ValidationError as error:
        modeladmin.message_user(request, " ".join(error.messages), messages.ERROR)
        return
    modeladmin.message_user(
        request,
        ngettext("%(count)d case assigned to you.", "%(count)d cases assigned to you.", count)
        % {"count": count},
        messages.SUCCESS,
    )


@admin.action(description=_("Assign to a staff member…"), permissions=["change"])
def assign_to(modeladmin, request, queryset):
    station_ids = set(queryset.values_list("station_id", flat=True))
    # No case selected (another station's, posted by hand): nobody to offer, rather
    # than "members of every one of no stations", which is everyone.
    candidates = (
        staff_for_stations(station_ids=station_ids)
        if station_ids
        else get_user_model().objects.none()
    )

    class AssignForm(forms.Form):
        assignee = forms.ModelChoiceField(label=_("assign to"), queryset=candidates)

    if "apply" in request.POST:
        form = AssignForm(request.POST)
        if form.is_valid():
            try:
                count = inquiries_assign(
                    inquiries=queryset, assignee=form.cleaned_data["assignee"], by=request.user
                )
            except ValidationError as error:
                modeladmin.message_user(request, " ".join(error.messages), messages.ERROR)
                return None
            modeladmin.message_user(
                request,
                ngettext("%(count)d case assigned.", "%(count)d cases assigned.", count)
                % {"count": count},
                messages.SUCCESS,
            )
            return None
    else:
        form = AssignForm()
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Assign cases"),
        "opts": modeladmin.model._meta,
        "form": form,
        "cases": queryset,
        "no_candidates": not candidates.exists(),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
    }
    return TemplateResponse(request, "admin/inquiries/inquiry/assign.html", context)


# ------------------------------------------------------------------------------
# Check-in rounds
# ------------------------------------------------------------------------------
@admin.action(description=_("Send the check-in round"), permissions=["change"])
def send_round(modeladmin, request, queryset):
    sent = 0
    for round in queryset.select_related("station"):
        if not user_manages(request.user, round.station):
            modeladmin.message_user(
                request,
                _("Only the station's managers can send “%(round)s”.") % {"round": round},
                messages.ERROR,
            )
            continue
        try:
            check_in_round_send_request(round=round, by=request.user)
        except ValidationError as error:
            modeladmin.message_user(request, f"{round}: {' '.join(error.messages)}", messages.ERROR)
            continue
        sent += 1
    if sent:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d round is being sent; residents already invited are not invited again.",
                "%(count)d rounds are being sent; residents already invited are not invited again.",
                sent,
            )
            % {"count": sent},
            messages.SUCCESS,
        )
