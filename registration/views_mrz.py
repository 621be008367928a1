"""
The passport-reading endpoint of the registration form: the page sends the passport photo
as soon as it is chosen and asks here until the machine-readable zone is read.

``POST registration/passport/<code>/`` keeps the photo with this browser session's form
attempt (the same attempt the form uses, so it is not sent again with the form) and queues
its reading; ``GET`` answers where the reading stands and, once read, the fields it
proved. Only the session holding the attempt sees its reading. Without JavaScript nothing
changes: the form works as before and the resident types the fields.
"""

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.client import client_ip
from core.ratelimit import photo_quota_exceeded, rate_limit_hit
from registration.constants import DocumentKind, ErrorCode, MrzNote, PassportReadingStatus
from registration.selectors import passport_reading_get
from registration.services_mrz import passport_photo_add
from registration.views import _attempt
from registration.views.register import register_flow
from stations.selectors import station_get_by_code


def _answer(attempt, *, status: int = 200, error: str = "") -> JsonResponse:
    state, reading = passport_reading_get(attempt=attempt)
    body: dict = {"status": state or "none"}
    if state == PassportReadingStatus.PENDING:
        body["message"] = _("Reading your passport…")
    if reading is not None:
        body["fields"] = reading.fields
        count = len(reading.fields)
        body["message"] = (
            ngettext(
                "We filled in %(count)d field from your passport. Check it against the page "
                "before you send the form.",
                "We filled in %(count)d fields from your passport. Check each one against "
                "the page before you send the form.",
                count,
            )
            % {"count": count}
            if count
            else ""
        )
        body["notes"] = [str(MrzNote(code).label) for code in reading.notes]
    if attempt is not None and state:
        photo = attempt.documents.filter(kind=DocumentKind.PASSPORT_PAGE).last()
        if photo is not None:
            body["photo"] = reverse("registration:attempt_photo", args=[photo.public_id])
    if error:
        body["error"] = error
    return JsonResponse(body, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def passport_reading(request, code):
    """Take the passport photo of the registration form (POST) and tell its reading (GET)."""
    station = station_get_by_code(code)
    if station is None or not station.is_active:
        raise Http404
    flow = register_flow(station)
    if request.method == "GET":
        return _answer(_attempt(request, flow, create=False))
    upload = request.FILES.get(DocumentKind.PASSPORT_PAGE)
    if upload is None:
        return _answer(_attempt(request, flow, create=False), status=400)
    address = client_ip(request)
    # A POST of the form like any other, and a photo under the same quotas as the form's.
    if rate_limit_hit("registration-form", key=address):
        return _answer(None, status=429, error=str(ErrorCode.RATE_LIMITED.label))
    attempt = _attempt(request, flow, station=station)
    if photo_quota_exceeded(address=address, attempt=str(attempt.pk), size=upload.size):
        return _answer(attempt, status=429, error=str(ErrorCode.PHOTO_QUOTA.label))
    limited = rate_limit_hit("passport-read", key=address)
    try:
        passport_photo_add(attempt=attempt, uploaded_file=upload, read=not limited)
    except ValidationError as error:
        return _answer(attempt, status=400, error=" ".join(error.messages))
    return _answer(attempt, status=202 if not limited else 200)
