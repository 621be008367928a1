"""
The page a bound resident's WeChat reply links to: confirm the return from abroad whose
entry stamp they sent as a photo (``wechat.arrivals``).

The link's random token is the only key (sent to the bound WeChat only, hashed here,
valid ``WECHAT_ARRIVAL_LINK_HOURS``): it opens this one return, never the private page or
its link. The form is the private link's "I'm back from a trip abroad"
(``registration.forms.ReentryForm``) with the entry stamp already there; a photo WeChat's
file could not give is added here instead.
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.client import client_ip
from core.ratelimit import photo_quota_exceeded
from registration import services as registration_services
from registration.constants import CONSENT_NOTICE_VERSION, ErrorCode
from registration.documents import document_response
from registration.forms import ReentryForm
from wechat import arrivals
from wechat.constants import ArrivalPhotoStatus, ArrivalRefusal
from wechat.limits import rate_limited


def _photo_or_404(token):
    photo = arrivals.arrival_photo_by_token(token=token)
    if photo is None or not arrivals.registration_is_active(photo.registration):
        raise Http404
    return photo


def _photos(photo) -> dict:
    if photo.attempt_id is None:
        return {}
    return {document.kind: document for document in photo.attempt.documents.all()}


def _page(request, photo, token, form, status=200):
    refusal = ArrivalRefusal(photo.refusal).label if photo.refusal else None
    return render(
        request,
        "wechat/arrival_confirm.html",
        {
            "registration": photo.registration,
            "station": photo.registration.station,
            "token": token,
            "form": form,
            "photos": _photos(photo),
            "refusal": refusal,
        },
        status=400 if form.is_bound and form.errors else status,
    )


def _uploads(request, photo, attempt) -> dict:
    errors = {}
    for kind in ReentryForm.photo_kinds:
        upload = request.FILES.get(kind)
        if upload is None:
            continue
        if photo_quota_exceeded(
            address=client_ip(request), attempt=str(attempt.pk), size=upload.size
        ):
            errors[kind] = ValidationError(
                ErrorCode.PHOTO_QUOTA.label, code=ErrorCode.PHOTO_QUOTA.value
            )
            continue
        try:
            registration_services.attempt_photo_add(
                attempt=attempt, kind=kind, uploaded_file=upload
            )
        except ValidationError as error:
            errors[kind] = error
    return errors


@never_cache
@rate_limited("wechat-arrival")
@require_http_methods(["GET", "POST"])
def arrival(request, token):
    """Confirm a return from abroad whose entry stamp came as a WeChat photo."""
    photo = _photo_or_404(token)
    registration = photo.registration
    if photo.status == ArrivalPhotoStatus.RECEIVED and request.method == "GET":
        return render(request, "wechat/arrival_waiting.html", {"station": registration.station})
    if request.method == "GET":
        form = ReentryForm(
            initial={
                "arrival_at": timezone.localtime().replace(second=0, microsecond=0),
                "expected_departure": registration.expected_departure,
                "visa_type": registration.visa_type,
            },
            registration=registration,
            photos_present=set(_photos(photo)),
        )
        return _page(request, photo, token, form)
    attempt = arrivals.arrival_photo_attempt(photo=photo)
    photo.attempt = attempt
    errors = _uploads(request, photo, attempt)
    form = ReentryForm(
        request.POST,
        registration=registration,
        photos_present=set(_photos(photo)),
        photo_errors=errors,
    )
    if not form.is_valid():
        return _page(request, photo, token, form)
    data = form.service_data()
    data["consent_notice_version"] = CONSENT_NOTICE_VERSION
    data["consent_given_at"] = timezone.now()
    try:
        submitted = arrivals.arrival_photo_confirm(
            photo=photo, data=data, attempt=attempt, language=translation.get_language()
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _page(request, photo, token, form)
    return render(
        request,
        "wechat/arrival_done.html",
        {"registration": submitted.registration, "station": submitted.registration.station},
    )


@never_cache
@rate_limited("wechat-arrival")
def arrival_photo(request, token, kind):
    """The thumbnail of a photo on the confirmation page (its token is the permission)."""
    photo = _photo_or_404(token)
    document = _photos(photo).get(kind)
    if document is None:
        raise Http404
    return document_response(document=document)
