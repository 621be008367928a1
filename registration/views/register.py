"""The registration form of a station, with its review step before submitting."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.client import client_ip
from core.db import retry_on_lost_connection
from core.ratelimit import rate_limit_hit
from registration import forms, services
from registration.constants import CONSENT_NOTICE_VERSION
from registration.selectors import passport_reading_get
from registration.views.attempts import (
    ATTEMPTS_SESSION_KEY,
    _attempt,
    _attempt_forget,
    _photo_form,
    _photos,
    _rate_limit_error,
    _status,
)
from registration.views.receipt import RECEIPT_SESSION_KEY
from stations.constants import QrTarget
from stations.selectors import station_get_by_code
from stations.shortcuts import station_closed_response
from stations.visits import visit_count_request

# A second "Send" within this time, with no new form started, shows the first receipt.
DOUBLE_SUBMIT_SECONDS = 10 * 60


def _initial_for_new(request) -> dict:
    return {
        "preferred_language": translation.get_language(),
        "preferred_channel": "email",
        "document_type": "passport",
    }


def register_flow(station) -> str:
    """Return the session key of the registration form's attempt at ``station``."""
    return f"register:{station.pk}"


def _initial_with_reading(request, attempt) -> dict:
    """The new form's initial values, with what the passport photo's MRZ proved (if read)."""
    initial = _initial_for_new(request)
    _state, reading = passport_reading_get(attempt=attempt)
    if reading is not None:
        initial.update(reading.form_initial())
    return initial


@never_cache
@require_http_methods(["GET", "POST"])
def register(request, code):
    """Show and take the registration form of station ``code`` (review step before submit)."""
    station = station_get_by_code(code)
    if station is None:
        raise Http404
    if not station.is_active:
        return station_closed_response(request, code=station.code)
    flow = register_flow(station)
    if request.method == "GET":
        attempt = _attempt(request, flow, create=False)
        form = forms.RegistrationForm(
            station=station, initial=_initial_with_reading(request, attempt)
        )
        visit_count_request(request, station.code, purpose=QrTarget.REGISTER)
        return _form_page(request, station, form, attempt)

    step = request.POST.get("step", "review")
    if step == "submit" and _just_submitted(request, flow):
        # A second tap on "Send": the first one went through; show its receipt again.
        return redirect("registration:receipt")
    if rate_limit_hit("registration-form", key=client_ip(request)):
        # Refused before any attempt is made or any photo opened.
        attempt = _attempt(request, flow, create=False)
        form = forms.RegistrationForm(
            request.POST, station=station, photos_present=_photos(attempt)
        )
        _rate_limit_error(form)
        return _form_page(request, station, form, attempt, status=429)
    attempt = _attempt(request, flow, station=station)
    form = _photo_form(request, forms.RegistrationForm, attempt, station=station)
    if step == "edit":
        form = forms.RegistrationForm(
            station=station, initial=request.POST.dict(), photos_present=_photos(attempt)
        )
        return _form_page(request, station, form, attempt)
    if not form.is_valid():
        return _form_page(request, station, form, attempt, status=200)
    if step != "submit":
        return render(
            request,
            "registration/review.html",
            {
                "station": station,
                "form": form,
                "photos": form.attempt_photos,
                "action": request.path,
            },
        )
    data = form.service_data()
    data["consent_notice_version"] = CONSENT_NOTICE_VERSION
    data["consent_given_at"] = timezone.now()
    attempt_key = request.session.get(ATTEMPTS_SESSION_KEY, {}).get(flow)

    @retry_on_lost_connection
    def submit():
        # Run again from the start after a lost connection: the attempt is read afresh
        # (the failed try may have deleted it in memory; the database kept it).
        return services.registration_submit(
            station=station,
            data=data,
            attempt=services.attempt_get(key=attempt_key),
            language=translation.get_language(),
        )

    submitted = submit()
    _attempt_forget(request, flow)
    request.session[RECEIPT_SESSION_KEY] = {
        "id": submitted.registration.pk,
        "token": submitted.token,
        "flow": flow,
        "at": timezone.now().timestamp(),
    }
    return redirect("registration:receipt")


def _just_submitted(request, flow: str) -> bool:
    """Return whether this session submitted ``flow`` moments ago and has no new attempt."""
    info = request.session.get(RECEIPT_SESSION_KEY) or {}
    recent = timezone.now().timestamp() - info.get("at", 0) < DOUBLE_SUBMIT_SECONDS
    no_new_attempt = flow not in request.session.get(ATTEMPTS_SESSION_KEY, {})
    return info.get("flow") == flow and recent and no_new_attempt


def _form_page(request, station, form, attempt, *, status=200):
    photos = getattr(form, "attempt_photos", None)
    return render(
        request,
        "registration/form.html",
        {
            "station": station,
            "form": form,
            "photos": _photos(attempt) if photos is None else photos,
            "notice_version": CONSENT_NOTICE_VERSION,
            "retention_months": max(1, settings.REGISTRATION_RETENTION_DAYS // 30),
        },
        status=_status(form, status),
    )
