"""
Residence registrations and residents in the admin, an entry point like a view: forms
validate input, and each action and save calls one service.

- ``registrations``: the review queue (list, search, change page with photos);
- ``actions``: decisions, bulk actions, erasure, same-person confirmation;
- ``filters``: the saved queues (``selectors.registration_queue``), deletion requests;
- ``history``: the timeline and the read-only history pages;
- ``residents``: resident records.
"""

from registration.admin.actions import REVIEW_PERMISSION, review_message_template
from registration.admin.registrations import RegistrationAdmin
from registration.admin.residents import ResidentAdmin

__all__ = ["REVIEW_PERMISSION", "RegistrationAdmin", "ResidentAdmin", "review_message_template"]
