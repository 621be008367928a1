"""
The resident's private page and what it offers besides updates: a copy of their data and
the deletion request.
"""

import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from registration import services
from registration.constants import ACTIVE_STATUSES, RegistrationStatus
from registration.private_access import registration_for_private_access
from registration.selectors import (
    documents_current,
    registration_timeline,
    resident_data_export,
)
from registration.views.receipt import deadline_countdown


def update_start(request):
    """Explain how to update a registration: the private link, or the lost-link page."""
    return render(request, "registration/update_start.html")


def _by_token(request, token):
    """Return the registration the private link (or this session's alias) opens, or 404."""
    registration = registration_for_private_access(session=request.session, token=token)
    if registration is None:
        raise Http404
    return registration


def _panels(request, registration, token) -> list[dict]:
    """
    Return what other apps add to the private page (``REGISTRATION_PRIVATE_PANELS``: dotted
    paths of ``panel(*, request, registration, token) -> dict | None``, the dict naming its
    ``template``; ``"first": True`` puts it above the summary, else it comes under "My data"),
    so this app imports none of them.
    """
    panels = (
        import_string(path)(request=request, registration=registration, token=token)
        for path in settings.REGISTRATION_PRIVATE_PANELS
    )
    return [panel for panel in panels if panel]


@never_cache
def private(request, token):
    """The resident's page: status, history and what they can update."""
    registration = _by_token(request, token)
    countdown = deadline_countdown(deadline_at=registration.deadline_at)
    needs_correction = registration.status == RegistrationStatus.CORRECTION_REQUESTED
    # The deadline matters while the stay is not registered: a correction still owed (late
    # or not), or a registration waiting for the station before the deadline has passed.
    waiting = registration.status in (RegistrationStatus.SUBMITTED, RegistrationStatus.RESUBMITTED)
    show_countdown = needs_correction or (waiting and not countdown["late"])
    return render(
        request,
        "registration/private.html",
        {
            "registration": registration,
            "resident": registration.resident,
            "station": registration.station,
            "token": token,
            "timeline": registration_timeline(registration=registration),
            "photos": documents_current(registration=registration),
            "is_active": registration.status in ACTIVE_STATUSES,
            "needs_correction": needs_correction,
            "countdown": countdown if show_countdown else None,
            "panels": _panels(request, registration, token),
        },
    )


def _done(request, token, message):
    messages.success(request, message)
    return HttpResponseRedirect(reverse("registration:private", kwargs={"token": token}))


@never_cache
def my_data(request, token):
    """Download a copy of everything held about the resident, as JSON (PIPL art. 45)."""
    registration = _by_token(request, token)
    data = resident_data_export(registration=registration)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="linli-{registration.reference}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def delete_request(request, token):
    """Ask for the deletion of one's personal data; staff confirm it."""
    registration = _by_token(request, token)
    if request.method == "POST":
        services.registration_deletion_request(registration=registration)
        return _done(
            request,
            token,
            _(
                "We have received your request. The station deletes your data once the law "
                "allows it (an active registration must be kept) and tells you."
            ),
        )
    return render(
        request,
        "registration/delete_request.html",
        {"registration": registration, "token": token, "station": registration.station},
    )
