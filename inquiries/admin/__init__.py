"""
The staff side of help requests and check-in rounds, in Django admin.

``cases``: the case list and page, feedback; ``check_in``: rounds and their answers;
``replies``: reply templates; ``forms``: the case form; ``actions``: the admin actions.
Importing this package registers every model admin.
"""

from inquiries.admin.cases import (
    AssignedFilter,
    InquiryAdmin,
    InquiryFeedbackAdmin,
    OverdueFilter,
)
from inquiries.admin.check_in import CheckInAnswerAdmin, CheckInRoundAdmin, CheckInRoundIntroInline
from inquiries.admin.forms import InquiryAdminForm
from inquiries.admin.replies import ReplyTemplateAdmin

__all__ = [
    "AssignedFilter",
    "CheckInAnswerAdmin",
    "CheckInRoundAdmin",
    "CheckInRoundIntroInline",
    "InquiryAdmin",
    "InquiryAdminForm",
    "InquiryFeedbackAdmin",
    "OverdueFilter",
    "ReplyTemplateAdmin",
]
