"""
Status changes and the timeline, shared by every write of the registration app.

A status changes only through ``_transition``, which allows only ``constants.TRANSITIONS``;
each step is kept as an amendment (``_amend``), the timeline residents and staff read.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone

from registration.constants import ACTIVE_STATUSES, TRANSITIONS, ErrorCode
from registration.models import Amendment, Registration


class TransitionError(ValidationError):
    """A status change that ``constants.TRANSITIONS`` does not allow."""


def _history_user(obj, actor) -> None:
    if actor is not None and getattr(actor, "is_authenticated", False):
        obj._history_user = actor


def _amend(registration, kind, *, before="", actor=None, message="") -> Amendment:
    return Amendment.objects.create(
        registration=registration,
        kind=kind,
        status_before=before,
        status_after=registration.status,
        message=message,
        staff_user=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _transition(registration: Registration, to_status: str) -> str:
    """Move ``registration`` to ``to_status`` if allowed; return the previous status."""
    before = registration.status
    if to_status not in TRANSITIONS.get(before, ()):
        raise TransitionError(
            ErrorCode.TRANSITION_NOT_ALLOWED.label,
            code=ErrorCode.TRANSITION_NOT_ALLOWED.value,
            params={"from": before, "to": to_status},
        )
    registration.status = to_status
    registration.status_changed_at = timezone.now()
    return before


def _lock(registration: Registration) -> Registration:
    """Re-read ``registration`` under a row lock (two officers, two tabs)."""
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("resident", "station")
        .get(pk=registration.pk)
    )


def _require_active(registration: Registration) -> None:
    if registration.status not in ACTIVE_STATUSES:
        raise ValidationError(ErrorCode.NOT_ACTIVE.label, code=ErrorCode.NOT_ACTIVE.value)
