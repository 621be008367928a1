"""
The case's status machine: the only moves a case may make (``TRANSITIONS``), each one
written to the thread; resolving a case asks the resident for feedback.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from core.tokens import token_new
from inquiries.constants import TRANSITIONS, Author, EntryKind, ErrorCode, Status
from inquiries.models import Inquiry, InquiryFeedback
from inquiries.services.shared import _entry_add, _message_resident, _site_url, _status_label


def transition_allowed(current: str, target: str) -> bool:
    """Return whether a case may move from ``current`` to ``target``."""
    return target in TRANSITIONS.get(current, frozenset())


def _transition_refused(current: str, target: str) -> ValidationError:
    """Return the error of a move the workflow does not allow."""
    return ValidationError(
        gettext("A case cannot move from “%(current)s” to “%(target)s”.")
        % {"current": _status_label(current), "target": _status_label(target)},
        code=ErrorCode.INVALID_TRANSITION,
    )


def _assignee_required() -> ValidationError:
    """Return the error of a move to "assigned" with nobody to assign the case to."""
    return ValidationError(
        gettext("Choose the staff member to assign the case to."), code="assignee_required"
    )


def _transition(*, inquiry: Inquiry, to_status: str, by=None, author_kind=Author.STAFF) -> None:
    """Move a locked case to ``to_status`` (or raise), stamping times and the thread."""
    if not transition_allowed(inquiry.status, to_status):
        raise _transition_refused(inquiry.status, to_status)
    if to_status == Status.ASSIGNED and inquiry.assigned_to_id is None:
        raise _assignee_required()
    previous = inquiry.status
    now = timezone.now()
    inquiry.status = to_status
    fields = ["status", "updated_at"]
    if to_status == Status.RESOLVED:
        inquiry.resolved_at = now
        fields.append("resolved_at")
    elif to_status == Status.CLOSED:
        inquiry.closed_at = now
        fields.append("closed_at")
    inquiry.save(update_fields=fields)
    body = f"status:{previous}:{to_status}"
    _entry_add(inquiry=inquiry, kind=EntryKind.EVENT, author_kind=author_kind, author=by, body=body)
    if to_status == Status.RESOLVED:
        _feedback_request(inquiry=inquiry)


# ------------------------------------------------------------------------------
# Feedback after resolution (asked by the move to resolved; answered in feedback.py)
# ------------------------------------------------------------------------------
def _feedback_request(*, inquiry: Inquiry) -> InquiryFeedback:
    raw, digest = token_new()
    now = timezone.now()
    feedback = InquiryFeedback.objects.create(
        inquiry=inquiry,
        token_hash=digest,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.INQUIRY_FEEDBACK_VALID_DAYS),
    )
    _message_resident(
        inquiry=inquiry,
        template="inquiries/resolved",
        key=f"inquiry-feedback:{feedback.pk}",
        context={
            "secret_feedback_url": _site_url(reverse("inquiries:feedback", kwargs={"token": raw})),
            "valid_days": settings.INQUIRY_FEEDBACK_VALID_DAYS,
        },
    )
    feedback.raw_token = raw  # for the caller (tests, admin message); never stored
    return feedback
