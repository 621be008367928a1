"""
What every form view shares: the form attempt that keeps uploaded photos across a
redisplayed form, and the status of a form page answered again with errors.
"""

from django.core.exceptions import ValidationError

from core.client import client_ip
from core.db import retry_on_lost_connection
from core.ratelimit import photo_quota_exceeded
from registration import services
from registration.constants import ErrorCode

ATTEMPTS_SESSION_KEY = "registration_attempts"


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


def _photos_save(request, attempt, kinds, *, quota_key=None) -> dict[str, ValidationError]:
    """
    Sanitise and keep every uploaded photo within the quotas (of the client address, or of
    ``quota_key``); return the errors by field.
    """
    errors = {}
    address = quota_key or client_ip(request)
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


def _photo_form(request, form_class, attempt, *, existing=(), quota_key=None, **kwargs):
    """Bind ``form_class`` to the POST, after keeping the uploaded photos in ``attempt``."""
    photo_errors = _photos_save(request, attempt, form_class.photo_kinds, quota_key=quota_key)
    documents = _photos(attempt)
    present = set(documents) | set(existing)
    form = form_class(request.POST, photos_present=present, photo_errors=photo_errors, **kwargs)
    form.attempt_photos = documents  # the page shown next lists them without a query again
    return form


def _rate_limit_error(form) -> None:
    form.add_error(
        None, ValidationError(ErrorCode.RATE_LIMITED.label, code=ErrorCode.RATE_LIMITED.value)
    )


def _status(form, status: int) -> int:
    """
    A form shown again with errors answers 400 (the page still shows every message), or
    429 when a photo was refused by a quota.
    """
    if status == 200 and form is not None and form.is_bound and form.errors:
        codes = {error.code for errors in form.errors.as_data().values() for error in errors}
        return 429 if ErrorCode.PHOTO_QUOTA.value in codes else 400
    return status
