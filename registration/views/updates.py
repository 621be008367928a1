"""
Updates through the private link: a new address, a renewed visa, a new travel document,
contact details, departure, and the answer to a correction request.
"""

from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.db import retry_on_lost_connection
from registration import forms, services
from registration.constants import ACTIVE_STATUSES, CONSENT_NOTICE_VERSION, RegistrationStatus
from registration.selectors import documents_current
from registration.views.attempts import (
    ATTEMPTS_SESSION_KEY,
    _attempt,
    _attempt_forget,
    _photo_form,
    _photos,
    _status,
)
from registration.views.private import _by_token, _done
from registration.views.receipt import RECEIPT_SESSION_KEY


def _initial_from(registration) -> dict:
    resident = registration.resident
    initial = {field: getattr(resident, field) for field in services.RESIDENT_FIELDS}
    initial.update({field: getattr(registration, field) for field in services.REGISTRATION_FIELDS})
    initial["nationality"] = resident.nationality.code
    initial["phone"] = str(resident.phone or "")
    initial["host_phone"] = str(registration.host_phone or "")
    initial["arrival_at"] = timezone.localtime(registration.arrival_at)
    return initial


def _update_page(request, registration, token, template, form, attempt=None, status=200, **extra):
    return render(
        request,
        template,
        {
            "registration": registration,
            "station": registration.station,
            "token": token,
            "form": form,
            "photos": _photos(attempt),
            **extra,
        },
        status=_status(form, status),
    )


def _active_or_redirect(registration, token):
    if registration.status not in ACTIVE_STATUSES:
        return HttpResponseRedirect(reverse("registration:private", kwargs={"token": token}))
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def update_move(request, token):
    """New address: a new registration, pre-filled from the current one."""
    registration = _by_token(request, token)
    if (response := _active_or_redirect(registration, token)) is not None:
        return response
    flow = f"move:{registration.pk}"
    template = "registration/update_move.html"
    kwargs = {"station": registration.station, "registration": registration}
    if request.method == "GET":
        initial = _initial_from(registration)
        initial.update({"arrival_at": None, "expected_departure": None, "address": ""})
        form = forms.MoveForm(initial=initial, **kwargs)
        return _update_page(request, registration, token, template, form)
    attempt = _attempt(request, flow, station=registration.station)
    form = _photo_form(request, forms.MoveForm, attempt, **kwargs)
    if not form.is_valid():
        return _update_page(request, registration, token, template, form, attempt)
    return _new_stay_send(request, services.registration_move, registration, token, flow, form)


def _new_stay_send(request, service, registration, token: str, flow: str, form):
    """
    Send a new stay made through the private link (a move, a return from abroad) with
    ``service`` and show its receipt. A connection lost before the commit runs it again
    from the start, the attempt's photos read afresh (as the public form does).
    """
    data = form.service_data()
    data["consent_notice_version"] = CONSENT_NOTICE_VERSION
    data["consent_given_at"] = timezone.now()
    attempt_key = request.session.get(ATTEMPTS_SESSION_KEY, {}).get(flow)

    @retry_on_lost_connection
    def send():
        return service(
            registration=registration,
            data=data,
            attempt=services.attempt_get(key=attempt_key),
            language=translation.get_language(),
            token=token,
        )

    submitted = send()
    _attempt_forget(request, flow)
    # The receipt shows the link only when it was the link (not a session's alias).
    request.session[RECEIPT_SESSION_KEY] = {
        "id": submitted.registration.pk,
        "token": submitted.token or "",
    }
    return redirect("registration:receipt")


@never_cache
@require_http_methods(["GET", "POST"])
def update_reentry(request, token):
    """Back from a trip abroad: a new registration at the same address, in one form."""
    registration = _by_token(request, token)
    if (response := _active_or_redirect(registration, token)) is not None:
        return response
    flow = f"reentry:{registration.pk}"
    template = "registration/update_reentry.html"
    if request.method == "GET":
        initial = {
            "arrival_at": timezone.localtime().replace(second=0, microsecond=0),
            "expected_departure": registration.expected_departure,
            "visa_type": registration.visa_type,
        }
        form = forms.ReentryForm(initial=initial, registration=registration)
        return _update_page(request, registration, token, template, form)
    attempt = _attempt(request, flow, station=registration.station)
    form = _photo_form(request, forms.ReentryForm, attempt, registration=registration)
    if not form.is_valid():
        return _update_page(request, registration, token, template, form, attempt)
    return _new_stay_send(request, services.registration_reenter, registration, token, flow, form)


@never_cache
@require_http_methods(["GET", "POST"])
def update_stay(request, token):
    """I'm staying longer: a later expected departure, within the visa's validity."""
    registration = _by_token(request, token)
    if (response := _active_or_redirect(registration, token)) is not None:
        return response
    template = "registration/update_stay.html"
    if request.method == "GET":
        form = forms.StayLongerForm(
            registration=registration,
            initial={"expected_departure": registration.expected_departure},
        )
        return _update_page(request, registration, token, template, form)
    form = forms.StayLongerForm(request.POST, registration=registration)
    if form.is_valid():
        try:
            services.registration_departure_extend(
                registration=registration,
                expected_departure=form.cleaned_data["expected_departure"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _done(request, token, _("Your new expected departure date is saved."))
    return _update_page(request, registration, token, template, form)


@never_cache
@require_http_methods(["GET", "POST"])
def update_visa(request, token):
    """A renewed visa or residence permit."""
    registration = _by_token(request, token)
    if (response := _active_or_redirect(registration, token)) is not None:
        return response
    flow = f"visa:{registration.pk}"
    template = "registration/update_visa.html"
    if request.method == "GET":
        form = forms.VisaRenewForm(
            registration=registration, initial={"visa_type": registration.visa_type}
        )
        return _update_page(request, registration, token, template, form)
    attempt = _attempt(request, flow)
    form = _photo_form(request, forms.VisaRenewForm, attempt, registration=registration)
    if form.is_valid():
        try:
            services.registration_visa_renew(
                registration=registration,
                visa_type=form.cleaned_data["visa_type"],
                visa_number=form.cleaned_data["visa_number"],
                visa_valid_until=form.cleaned_data["visa_valid_until"],
                attempt=attempt,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _attempt_forget(request, flow)
            return _done(request, token, _("Thank you. The station will check your new visa."))
    return _update_page(request, registration, token, template, form, attempt)


@never_cache
@require_http_methods(["GET", "POST"])
def update_document(request, token):
    """A new travel document."""
    registration = _by_token(request, token)
    if (response := _active_or_redirect(registration, token)) is not None:
        return response
    flow = f"document:{registration.pk}"
    template = "registration/update_document.html"
    if request.method == "GET":
        form = forms.TravelDocumentForm(
            initial={"document_type": registration.resident.document_type}
        )
        return _update_page(request, registration, token, template, form)
    attempt = _attempt(request, flow)
    form = _photo_form(request, forms.TravelDocumentForm, attempt)
    if form.is_valid():
        try:
            services.resident_travel_document_update(
                registration=registration,
                document_type=form.cleaned_data["document_type"],
                document_number=form.cleaned_data["document_number"],
                document_expiry=form.cleaned_data["document_expiry"],
                attempt=attempt,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _attempt_forget(request, flow)
            return _done(
                request, token, _("Thank you. The station will check your new travel document.")
            )
    return _update_page(request, registration, token, template, form, attempt)


@never_cache
@require_http_methods(["GET", "POST"])
def update_contact(request, token):
    """Change contact details and message preferences."""
    registration = _by_token(request, token)
    if (response := _active_or_redirect(registration, token)) is not None:
        return response
    template = "registration/update_contact.html"
    if request.method == "GET":
        form = forms.ContactForm(initial=_initial_from(registration))
        return _update_page(request, registration, token, template, form)
    form = forms.ContactForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("website", None)
        services.resident_contact_update(registration=registration, data=data)
        return _done(request, token, _("Your contact details are saved."))
    return _update_page(request, registration, token, template, form)


@never_cache
@require_http_methods(["GET", "POST"])
def update_left(request, token):
    """ "I have left": end the registration with the date of departure."""
    registration = _by_token(request, token)
    if (response := _active_or_redirect(registration, token)) is not None:
        return response
    template = "registration/update_left.html"
    if request.method == "GET":
        form = forms.DepartureForm(initial={"departed_on": timezone.localdate()})
        return _update_page(request, registration, token, template, form)
    form = forms.DepartureForm(request.POST)
    if form.is_valid():
        try:
            services.registration_depart(
                registration=registration, departed_on=form.cleaned_data["departed_on"]
            )
        except ValidationError as error:
            form.add_error(None, error)  # a dict of errors lands on its fields
        else:
            return _done(request, token, _("Thank you. Your registration has ended. Safe travels!"))
    return _update_page(request, registration, token, template, form)


@never_cache
@require_http_methods(["GET", "POST"])
def update_correct(request, token):
    """Answer a correction request: the whole form again, pre-filled."""
    registration = _by_token(request, token)
    if registration.status != RegistrationStatus.CORRECTION_REQUESTED:
        return HttpResponseRedirect(reverse("registration:private", kwargs={"token": token}))
    flow = f"correct:{registration.pk}"
    template = "registration/update_correct.html"
    existing = documents_current(registration=registration)
    station = registration.station
    if request.method == "GET":
        form = forms.RegistrationForm(
            station=station, initial=_initial_from(registration), photos_present=existing
        )
        return _update_page(request, registration, token, template, form, existing=existing)
    attempt = _attempt(request, flow, station=station)
    form = _photo_form(request, forms.RegistrationForm, attempt, existing=existing, station=station)
    if form.is_valid():
        try:
            services.registration_correct(
                registration=registration, data=form.service_data(), attempt=attempt
            )
        except ValidationError as error:
            form.add_error(None, error)
            return _update_page(
                request, registration, token, template, form, attempt, existing=existing
            )
        _attempt_forget(request, flow)
        return _done(
            request, token, _("Thank you. The station will check your registration again.")
        )
    return _update_page(request, registration, token, template, form, attempt, existing=existing)
