"""
Reads of the registration app.

One module per job; callers import from here:

- ``registrations``: a registration by private link, reference or receipt; its timeline
  and photos; the registrations a staff member may see;
- ``residents``: how to reach a resident, and which records are one person;
- ``queues``: the staff's queues (admin list and dashboard count the same filters);
- ``review``: the decisions a registration allows, what changed since its last version;
- ``search``: blind indexes, references, exact search;
- ``export``: the resident's copy of their data.
"""

from registration.selectors.export import resident_data_export
from registration.selectors.passport import passport_reading_get
from registration.selectors.queues import (
    registration_queue,
    registrations_correction_requested,
    registrations_decided_by,
    registrations_deletion_requested,
    registrations_overdue,
    registrations_visa_expiring,
    registrations_waiting,
)
from registration.selectors.registrations import (
    documents_carried,
    documents_current,
    registration_active_of_resident,
    registration_for_receipt,
    registration_get_by_reference,
    registration_get_by_token,
    registration_timeline,
    registrations_for_user,
)
from registration.selectors.residents import (
    registration_other_stays,
    resident_find,
    resident_get,
    resident_match_suggestions,
    resident_route,
    resident_routes,
    resident_routes_sql,
    resident_same_person_ids,
    resident_station_ids,
    residents_for_check_in,
)
from registration.selectors.review import (
    REVIEW_FIELDS,
    registration_changes,
    registration_decisions_allowed,
)
from registration.selectors.search import (
    DOCUMENT_NUMBER_PURPOSE,
    VISA_NUMBER_PURPOSE,
    document_number_index,
    reference_looks_valid,
    reference_normalise,
    registrations_search_exact,
    visa_number_index,
)

__all__ = [
    "passport_reading_get",
    "DOCUMENT_NUMBER_PURPOSE",
    "REVIEW_FIELDS",
    "VISA_NUMBER_PURPOSE",
    "document_number_index",
    "documents_carried",
    "documents_current",
    "reference_looks_valid",
    "reference_normalise",
    "registration_changes",
    "registration_decisions_allowed",
    "registration_active_of_resident",
    "registration_for_receipt",
    "registration_get_by_reference",
    "registration_get_by_token",
    "registration_other_stays",
    "registration_queue",
    "registration_timeline",
    "registrations_correction_requested",
    "registrations_decided_by",
    "registrations_deletion_requested",
    "registrations_for_user",
    "registrations_overdue",
    "registrations_search_exact",
    "registrations_visa_expiring",
    "registrations_waiting",
    "resident_data_export",
    "resident_find",
    "resident_get",
    "resident_match_suggestions",
    "resident_route",
    "resident_routes",
    "resident_routes_sql",
    "resident_same_person_ids",
    "resident_station_ids",
    "residents_for_check_in",
    "visa_number_index",
]
