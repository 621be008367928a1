"""
Views of the residence-registration journey: the form (with review step), the receipt,
the private-link pages and the lost-link page. They translate HTTP into service calls.

- ``register``: the registration form of a station;
- ``receipt``: the receipt, with the private link shown once;
- ``private``: the resident's private page, their copy of the data, the deletion request;
- ``updates``: updates through the private link;
- ``lost_link``: the lost-link page;
- ``attempts``: what the form views share (photos kept with a form attempt).
"""

from registration.views.attempts import ATTEMPTS_SESSION_KEY, _attempt
from registration.views.lost_link import lost_link, lost_link_sent
from registration.views.private import _by_token, delete_request, my_data, private, update_start
from registration.views.receipt import RECEIPT_SESSION_KEY, deadline_info, receipt
from registration.views.register import register
from registration.views.updates import (
    update_contact,
    update_correct,
    update_document,
    update_left,
    update_move,
    update_reentry,
    update_stay,
    update_visa,
)

__all__ = [
    "ATTEMPTS_SESSION_KEY",
    "RECEIPT_SESSION_KEY",
    # The form attempt and the private-link lookup, for the journey's other endpoints.
    "_attempt",
    "_by_token",
    "deadline_info",
    "delete_request",
    "lost_link",
    "lost_link_sent",
    "my_data",
    "private",
    "receipt",
    "register",
    "update_contact",
    "update_correct",
    "update_document",
    "update_left",
    "update_move",
    "update_reentry",
    "update_start",
    "update_stay",
    "update_visa",
]
