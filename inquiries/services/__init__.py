"""
Writes of the inquiries app, by sub-domain: help requests handled as cases, check-in
rounds, the resident's feedback.

``cases``: the help request, the staff's handling, the resident's replies;
``workflow``: the case's status moves (resolving asks for feedback);
``feedback``: the resident's answer to "did this help?";
``check_in``: check-in rounds, their sending and answers;
``shared``: links, messages to the resident, the thread and the case's row lock.

Every function is one transaction; messages to residents and staff go through the
notifications outbox in the same transaction and are delivered after commit.
"""

from inquiries.services.cases import (
    REFERENCE_PREFIX,
    Submitted,
    first_response_due_compute,
    inquiries_assign,
    inquiry_assign,
    inquiry_classify,
    inquiry_note_add,
    inquiry_reply,
    inquiry_resident_reply,
    inquiry_submit,
    inquiry_transition,
    inquiry_update,
    inquiry_update_validate,
    resident_can_reply,
)
from inquiries.services.check_in import (
    check_in_answer_submit,
    check_in_round_save,
    check_in_round_send,
    check_in_round_send_request,
    check_in_troubled,
)
from inquiries.services.feedback import feedback_submit
from inquiries.services.shared import case_url
from inquiries.services.workflow import transition_allowed

__all__ = [
    "REFERENCE_PREFIX",
    "Submitted",
    "case_url",
    "check_in_answer_submit",
    "check_in_round_save",
    "check_in_round_send",
    "check_in_round_send_request",
    "check_in_troubled",
    "feedback_submit",
    "first_response_due_compute",
    "inquiries_assign",
    "inquiry_assign",
    "inquiry_classify",
    "inquiry_note_add",
    "inquiry_reply",
    "inquiry_resident_reply",
    "inquiry_submit",
    "inquiry_transition",
    "inquiry_update",
    "inquiry_update_validate",
    "resident_can_reply",
    "transition_allowed",
]
