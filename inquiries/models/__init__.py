"""
Models of the inquiries app, by sub-domain.

``cases``: a help request handled as a case, its thread and the resident's feedback;
``check_in``: check-in rounds, their introductions, invitations and answers;
``templates``: the reply templates staff pick from.
"""

from inquiries.models.cases import (
    SHORT_TEXT_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    Inquiry,
    InquiryEntry,
    InquiryFeedback,
    InquiryQuerySet,
    photo_upload_to,
)
from inquiries.models.check_in import (
    CheckInAnswer,
    CheckInInvitation,
    CheckInRound,
    CheckInRoundIntro,
)
from inquiries.models.templates import ReplyTemplate

__all__ = [
    "SHORT_TEXT_MAX_LENGTH",
    "SUBJECT_MAX_LENGTH",
    "TEXT_MAX_LENGTH",
    "CheckInAnswer",
    "CheckInInvitation",
    "CheckInRound",
    "CheckInRoundIntro",
    "Inquiry",
    "InquiryEntry",
    "InquiryFeedback",
    "InquiryQuerySet",
    "ReplyTemplate",
    "photo_upload_to",
]
