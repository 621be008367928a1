"""
Views of the residence-registration journey: the form (with review step), the receipt,
the private-link pages and the lost-link page. They translate HTTP into service calls.
"""

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.client import client_ip
from core.db import retry_on_lost_connection
from core.ratelimit import photo_quota_exceeded, rate_limit_hit
from registration import forms, services
from registration.constants import (
    ACTIVE_STATUSES,
    CONSENT_NOTICE_VERSION,
    ErrorCode,
    RegistrationStatus,
)
from registration.selectors import (
    documents_current,
    reference_normalise,
    registration_for_receipt,
    registration_get_by_token,
    registration_timeline,
    resident_data_export,
)
from stations.qr import qr_svg
from stations.selectors import station_get_by_code
from stations.shortcuts import station_closed_response

ATTEMPTS_SESSION_KEY = "registration_attempts"
RECEIPT_SESSION_KEY = "registration_receipt"
# A second "Send" within this time, with no new form started, shows the first receipt.
DOUBLE_SUBMIT_SECONDS = 10 * 60


# ------------------------------------------------------------------------------
# Submission attempts: photos that survive a redisplayed form
# ------------------------------------------------------------------------------
def _attempt(request, flow: str, *, station=None, create: bool = True):
    keys = request.session.get(ATTEMPTS_SESSION_KEY, {})
    attempt = services.attempt_get(key=keys.get(flow))
    if attempt is None and create:
        raw, attempt = services.attempt_start(station=station)
        keys[flow] = raw
        request.session[ATTEMPTS_SESSION_KEY] = keys
    return attempt


def _attempt_forget(request, flow: str) -> None:
    keys = request.session.get(ATTEMPTS_SESSION_KEY, {})
    if keys.pop(flow, None) is not None:
        request.session[ATTEMPTS_SESSION_KEY] = keys


def _photos_save(request, attempt, kinds) -> dict[str, ValidationError]:
    """Sanitise and keep every uploaded photo within the quotas; return the errors by field."""
    errors = {}
    address = client_ip(request)
    for kind in kinds:
        upload = request.FILES.get(kind)
        if upload is None:
            continue
        if photo_quota_exceeded(address=address, attempt=str(attempt.pk), size=upload.size):
            errors[kind] = ValidationError(
                ErrorCode.PHOTO_QUOTA.label, code=ErrorCode.PHOTO_QUOTA.value
            )
            continue
        try:
            services.attempt_photo_add(attempt=attempt, kind=kind, uploaded_file=upload)
        except ValidationError as error:
            errors[kind] = error
    return errors


@retry_on_lost_connection(atomic=False)
def _photos(attempt) -> dict:
    if attempt is None:
        return {}
    return {document.kind: document for document in attempt.documents.all()}


def _photo_form(request, form_class, attempt, *, existing=(), **kwargs):
    """Bind ``form_class`` to the POST, after keeping the uploaded photos in ``attempt``."""
    photo_errors = _photos_save(request, attempt, form_class.photo_kinds)
    present = set(_photos(attempt)) | set(existing)
    return form_class(request.POST, photos_present=present, photo_errors=photo_errors, **kwargs)


def _rate_limit_error(form) -> None:
    form.add_error(
        None, ValidationError(ErrorCode.RATE_LIMITED.label, code=ErrorCode.RATE_LIMITED.value)
    )


# ------------------------------------------------------------------------------
# The registration form
# ------------------------------------------------------------------------------
def _initial_for_new(request) -> dict:
    return {
        "preferred_language": translation.get_language(),
        "preferred_channel": "email",
        "document_type": "passport",
    }


@never_cache
@require_http_methods(["GET", "POST"])
def register(request, code):
    """Show and take the registration form of station ``code`` (review step before submit)."""
    station = station_get_by_code(code)
    if station is None:
        raise Http404
    if not station.is_active:
        return station_closed_response(request, code=station.code)
    flow = f"register:{station.pk}"
    if request.method == "GET":
        attempt = _attempt(request, flow, create=False)
        form = forms.RegistrationForm(station=station, initial=_initial_for_new(request))
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
            {"station": station, "form": form, "photos": _photos(attempt), "action": request.path},
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


def _status(form, status: int) -> int:
    """
    A form shown again with errors answers 400 (the page still shows every message), or
    429 when a photo was refused by a quota.
    """
    if status == 200 and form is not None and form.is_bound and form.errors:
        codes = {error.code for errors in form.errors.as_data().values() for error in errors}
        return 429 if ErrorCode.PHOTO_QUOTA.value in codes else 400
    return status


def _form_page(request, station, form, attempt, *, status=200):
    return render(
        request,
        "registration/form.html",
        {
            "station": station,
            "form": form,
            "photos": _photos(attempt),
            "notice_version": CONSENT_NOTICE_VERSION,
            "retention_months": max(1, settings.REGISTRATION_RETENTION_DAYS // 30),
        },
        status=_status(form, status),
    )


# ------------------------------------------------------------------------------
# Receipt
# ------------------------------------------------------------------------------
def deadline_info(registration) -> dict:
    """Return what the receipt says about the 24-hour deadline."""
    now = timezone.now()
    remaining = registration.deadline_at - registration.submitted_at
    return {
        "deadline": registration.deadline_at,
        "late": registration.submitted_at > registration.deadline_at,
        "hours_left": max(0, int(remaining.total_seconds() // 3600)),
        "minutes_left": max(0, int(remaining.total_seconds() // 60) % 60),
        "now": now,
    }


@never_cache
def receipt(request):
    """Show the receipt of the registration just submitted; the private link only once."""
    info = request.session.get(RECEIPT_SESSION_KEY)
    if not info:
        return redirect("registration:update_start")
    registration = registration_for_receipt(pk=info.get("id"))
    if registration is None:
        request.session.pop(RECEIPT_SESSION_KEY, None)
        return redirect("registration:update_start")
    token = info.get("token")
    if token:
        # Shown once: a reload (or the next person on a shared phone) sees no link.
        request.session[RECEIPT_SESSION_KEY] = {k: v for k, v in info.items() if k != "token"}
    admin_url = settings.SITE_URL + reverse(
        "admin:registration_registration_by_reference", args=[registration.reference]
    )
    return render(
        request,
        "registration/receipt.html",
        {
            "registration": registration,
            "resident": registration.resident,
            "station": registration.station,
            "photos": documents_current(registration=registration),
            "private_link": services.private_link_url(token) if token else "",
            "qr_svg": mark_safe(qr_svg(admin_url).decode()),  # noqa: S308 - escaped by qr_svg
            **deadline_info(registration),
        },
    )


# ------------------------------------------------------------------------------
# Updating through the private link
# ------------------------------------------------------------------------------
def update_start(request):
    """Explain how to update a registration: the private link, or the lost-link page."""
    return render(request, "registration/update_start.html")


def _by_token(token):
    registration = registration_get_by_token(token=token)
    if registration is None:
        # A link from the lost-link form, opened for the first time, becomes the private
        # link (looked up again: a second tab may have claimed it a moment before).
        services.registration_link_claim(token=token)
        registration = registration_get_by_token(token=token)
    if registration is None:
        raise Http404
    return registration


@never_cache
def private(request, token):
    """The resident's page: status, history and what they can update."""
    registration = _by_token(token)
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
            "needs_correction": registration.status == RegistrationStatus.CORRECTION_REQUESTED,
        },
    )


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


def _done(request, token, message):
    messages.success(request, message)
    return HttpResponseRedirect(reverse("registration:private", kwargs={"token": token}))


def _active_or_redirect(registration, token):
    if registration.status not in ACTIVE_STATUSES:
        return HttpResponseRedirect(reverse("registration:private", kwargs={"token": token}))
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def update_move(request, token):
    """New address: a new registration, pre-filled from the current one."""
    registration = _by_token(token)
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
    data = form.service_data()
    data["consent_notice_version"] = CONSENT_NOTICE_VERSION
    data["consent_given_at"] = timezone.now()
    submitted = services.registration_move(
        registration=registration,
        data=data,
        attempt=attempt,
        language=translation.get_language(),
        token=token,
    )
    _attempt_forget(request, flow)
    request.session[RECEIPT_SESSION_KEY] = {"id": submitted.registration.pk, "token": token}
    return redirect("registration:receipt")


@never_cache
@require_http_methods(["GET", "POST"])
def update_visa(request, token):
    """A renewed visa or residence permit."""
    registration = _by_token(token)
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
    registration = _by_token(token)
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
    registration = _by_token(token)
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
    registration = _by_token(token)
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
    registration = _by_token(token)
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


@never_cache
def my_data(request, token):
    """Download a copy of everything held about the resident, as JSON (PIPL art. 45)."""
    registration = _by_token(token)
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
    registration = _by_token(token)
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


# ------------------------------------------------------------------------------
# Lost link
# ------------------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def lost_link(request):
    """Send the private link again; the answer never says whether anything matched."""
    if request.method == "GET":
        return render(request, "registration/lost_link.html", {"form": forms.LostLinkForm()})
    form = forms.LostLinkForm(request.POST)
    if not form.is_valid():
        return render(request, "registration/lost_link.html", {"form": form}, status=400)
    reference = reference_normalise(form.cleaned_data["reference"])
    address = client_ip(request)
    # Per address, and per reference from that address: never per reference alone, or six
    # strangers could lock a resident out of their own link.
    over_address = rate_limit_hit("lost-link-address", key=address)
    over_reference = rate_limit_hit("lost-link-reference-address", key=f"{reference} {address}")
    if over_address or over_reference:
        _rate_limit_error(form)
        return render(request, "registration/lost_link.html", {"form": form}, status=429)
    services.registration_link_resend(
        reference=reference, document_number=form.cleaned_data["document_number"]
    )
    return redirect("registration:lost_link_sent")


def lost_link_sent(request):
    """The same answer whether or not the details matched."""
    return render(request, "registration/lost_link_sent.html")
