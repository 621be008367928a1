"""The resident's feedback on a resolved case: "did this help?", answered once by link."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inquiries.constants import Author, EntryKind, ErrorCode, Status
from inquiries.models import InquiryFeedback
from inquiries.services.shared import _entry_add, _lock
from inquiries.services.workflow import _transition


def feedback_submit(
    *, feedback: InquiryFeedback, helped: bool, rating: int, comment: str = ""
) -> InquiryFeedback:
    """Record the resident's feedback once; "not helped" reopens the case."""
    with transaction.atomic():
        locked = InquiryFeedback.objects.select_for_update().get(pk=feedback.pk)
        if locked.answered_at is not None:
            raise ValidationError(ErrorCode.TOKEN_USED.label, code=ErrorCode.TOKEN_USED)
        if locked.expires_at <= timezone.now():
            raise ValidationError(ErrorCode.TOKEN_EXPIRED.label, code=ErrorCode.TOKEN_EXPIRED)
        locked.helped = helped
        locked.rating = rating
        locked.comment = comment or ""
        locked.answered_at = timezone.now()
        locked.full_clean()
        locked.save()
        if not helped:
            inquiry = _lock(locked.inquiry)
            if inquiry.status in (Status.RESOLVED, Status.CLOSED):
                _transition(inquiry=inquiry, to_status=Status.REOPENED, author_kind=Author.RESIDENT)
            body = f"not_helped:{rating}:{locked.comment}"
            _entry_add(
                inquiry=inquiry, kind=EntryKind.EVENT, author_kind=Author.RESIDENT, body=body
            )
    return locked
