"""
Writes of the registration app: submit, update, review and end registrations.

Every function is keyword-only and runs in one transaction; messages to the resident are
recorded in the notifications outbox in that same transaction and delivered after commit.
Status changes go through ``workflow._transition``, which allows only
``constants.TRANSITIONS``.

One module per job; callers import from here:

- ``attempts``: form attempts and the photos uploaded before the form is sent;
- ``submission``: a registration from the public form, with a new resident;
- ``updates``: what the resident changes through the private link, and the end of a stay;
- ``review``: staff decisions (``registration_decide``: the decision and its audit entry);
- ``identity``: staff changes to a resident record (same person, corrections);
- ``links``: the lost-link form;
- ``staff``: corrections, the end of a stay and a new link, by staff at the counter;
- ``erasure``: deletion requests, erasure and anonymisation;
- ``notify`` and ``workflow``: the resident's messages, status changes and the timeline,
  which the others share;
- ``reminder_sets``: the daily reminder run's writes as sets (registrations ended, their
  history and amendments, the residents' messages), a chunk at a time.
"""

from registration.services.attempts import (
    attempt_get,
    attempt_photo_add,
    attempt_start,
    attempts_delete_old,
)
from registration.services.erasure import (
    ERASED_BY_RETENTION,
    ERASED_ON_REQUEST,
    LINK_CHAIN_LIMIT,
    RESIDENT_ANONYMISED,
    Erased,
    registration_anonymise,
    registration_deletion_request,
    resident_erase,
    resident_erase_many,
)
from registration.services.identity import resident_match_confirm, resident_staff_update
from registration.services.links import registration_link_claim, registration_link_resend
from registration.services.notify import (
    private_link_url,
    resident_message_specs,
    resident_notify,
)
from registration.services.reminder_sets import (
    registrations_end_expired,
    resident_messages_queue,
    resident_messages_queue_due,
)
from registration.services.review import (
    registration_decide,
    registration_decide_many,
    registration_mark_registered,
    registration_reject,
    registration_request_correction,
)
from registration.services.staff import (
    STAFF_REGISTRATION_FIELDS,
    STAFF_RESIDENT_FIELDS,
    registration_staff_correct,
    registration_staff_end,
    registration_staff_link_send,
)
from registration.services.submission import (
    REGISTRATION_FIELDS,
    RESIDENT_FIELDS,
    Submitted,
    reference_prefix,
    registration_submit,
)
from registration.services.updates import (
    CONTACT_FIELDS,
    registration_correct,
    registration_depart,
    registration_departure_extend,
    registration_end,
    registration_move,
    registration_reenter,
    registration_visa_renew,
    resident_contact_update,
    resident_travel_document_update,
)
from registration.services.workflow import TransitionError

__all__ = [
    "CONTACT_FIELDS",
    "ERASED_BY_RETENTION",
    "ERASED_ON_REQUEST",
    "LINK_CHAIN_LIMIT",
    "REGISTRATION_FIELDS",
    "RESIDENT_ANONYMISED",
    "STAFF_REGISTRATION_FIELDS",
    "STAFF_RESIDENT_FIELDS",
    "RESIDENT_FIELDS",
    "Erased",
    "Submitted",
    "TransitionError",
    "attempt_get",
    "attempt_photo_add",
    "attempt_start",
    "attempts_delete_old",
    "private_link_url",
    "reference_prefix",
    "registration_anonymise",
    "registration_correct",
    "registration_decide",
    "registration_decide_many",
    "registration_deletion_request",
    "registration_depart",
    "registration_end",
    "registration_link_claim",
    "registration_link_resend",
    "registration_mark_registered",
    "registration_move",
    "registration_reenter",
    "registration_departure_extend",
    "registration_reject",
    "registration_request_correction",
    "registration_staff_correct",
    "registration_staff_end",
    "registration_staff_link_send",
    "registration_submit",
    "registration_visa_renew",
    "registrations_end_expired",
    "resident_contact_update",
    "resident_erase",
    "resident_erase_many",
    "resident_match_confirm",
    "resident_message_specs",
    "resident_messages_queue",
    "resident_messages_queue_due",
    "resident_notify",
    "resident_staff_update",
    "resident_travel_document_update",
]
