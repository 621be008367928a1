"""
Staff changes to a resident record: confirming two records as one person, and the
corrections a city administrator makes in the admin (docs/identity.md).
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from privacy.constants import AuditAction
from privacy.services import audit_record
from registration.constants import ErrorCode
from registration.models import Registration, Resident
from registration.selectors import (
    document_number_index,
    resident_match_suggestions,
    resident_same_person_ids,
)
from registration.services.workflow import _history_user, _lock

logger = logging.getLogger(__name__)


def resident_match_confirm(
    *, registration: Registration, other_resident: Resident, actor
) -> Resident:
    """
    Record that staff ``actor`` confirmed the resident of ``registration`` to be the same
    person as ``other_resident``, a suggestion they may see; return the resident.

    Only the link is written (with who and when, in the history and the audit trail): no
    field is copied between the records, so messages about each registration still go to
    its own contact details. Raise ValidationError if ``other_resident`` is no suggestion
    of ``registration`` for ``actor`` (another station's, another document, already linked).
    """
    with transaction.atomic():
        registration = _lock(registration)
        resident = Resident.objects.select_for_update().get(pk=registration.resident_id)
        registration.resident = resident  # the suggestions of the locked, current row
        suggested = {
            candidate.pk
            for candidate in resident_match_suggestions(registration=registration, user=actor)
        }
        if other_resident.pk not in suggested:
            raise ValidationError(
                ErrorCode.MATCH_NOT_SUGGESTED.label, code=ErrorCode.MATCH_NOT_SUGGESTED.value
            )
        other = Resident.objects.select_for_update().get(pk=other_resident.pk)
        person_id = other.person_id
        now = timezone.now()
        # The resident's whole group joins the other's: every member points at the same
        # first record, so a group stays one lookup (never a chain).
        group = Resident.objects.select_for_update().filter(
            pk__in=resident_same_person_ids(resident=resident)
        )
        for member in group:
            member.same_person_as_id = person_id
            member.same_person_confirmed_by = actor
            member.same_person_confirmed_at = now
            _history_user(member, actor)
            member._change_reason = "same person confirmed"
            member.save(
                update_fields=[
                    "same_person_as",
                    "same_person_confirmed_by",
                    "same_person_confirmed_at",
                    "updated_at",
                ]
            )
        audit_record(
            user=actor,
            action=AuditAction.DECISION,
            obj=registration,
            station=registration.station,
            detail=f"resident {registration.resident_id} confirmed the same person as "
            f"resident {other.pk}",
        )
    logger.info(
        "Registration %s: resident %s confirmed the same person as %s by user %s.",
        registration.pk,
        registration.resident_id,
        other.pk,
        actor.pk,
    )
    resident.refresh_from_db()
    return resident


def resident_staff_update(*, resident: Resident, actor) -> Resident:
    """
    Save the changes staff ``actor`` made to ``resident`` in the admin, with ``actor`` in its
    history; the travel-document number's search index follows the number.
    """
    with transaction.atomic():
        resident.document_number_index = document_number_index(resident.document_number)
        _history_user(resident, actor)
        resident.save()
    return resident
