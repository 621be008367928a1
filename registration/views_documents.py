"""
Document photos, only through permission checks: the visitor's own form attempt, the
resident's private link, or staff of the registration's station.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from privacy.constants import AuditAction
from privacy.services import audit_record
from registration.documents import document_response
from registration.models import Document
from registration.selectors import registrations_for_user
from registration.services import attempt_get
from registration.views.attempts import ATTEMPTS_SESSION_KEY
from registration.views.private import _by_token

VIEW_DOCUMENT_PERMISSION = "registration.view_document"


def attempt_photo(request, public_id):
    """The thumbnail of a photo uploaded in one of this browser session's form attempts."""
    keys = request.session.get(ATTEMPTS_SESSION_KEY, {})
    attempt_ids = [a.pk for a in (attempt_get(key=k) for k in keys.values()) if a is not None]
    document = Document.objects.filter(public_id=public_id, attempt_id__in=attempt_ids).first()
    if document is None:
        raise Http404
    return document_response(document=document, thumbnail=True, request=request)


def private_photo(request, token, public_id):
    """The thumbnail of a photo of the resident's own registration, through their link."""
    registration = _by_token(request, token)
    document = Document.objects.filter(public_id=public_id, registration=registration).first()
    if document is None:
        raise Http404
    return document_response(document=document, thumbnail=True, request=request)


def staff_document(request, public_id):
    """A photo for staff: permission to view documents, and a station they may see."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        raise PermissionDenied
    if not user.has_perm(VIEW_DOCUMENT_PERMISSION):
        raise PermissionDenied
    document = (
        Document.objects.select_related("registration")
        .filter(public_id=public_id, registration__in=registrations_for_user(user))
        .first()
    )
    if document is None:
        raise Http404
    audit_record(
        user=user,
        action=AuditAction.DOCUMENT_VIEW,
        obj=document.registration,
        station=document.registration.station,
        detail=document.kind,
    )
    return document_response(document=document)
