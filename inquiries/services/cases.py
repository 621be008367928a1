"""
Writes of a case: the help request, the staff's handling and the resident's replies.

Every function is one transaction; messages to residents and staff go through the
notifications outbox in the same transaction and are delivered after commit.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.crypto import encrypt_bytes
from core.db import retry_on_lost_connection
from core.references import reference_save
from core.tokens import token_new
from inquiries.constants import (
    Author,
    Category,
    EntryKind,
    ErrorCode,
    Source,
    Status,
    Urgency,
)
from inquiries.models import Inquiry, InquiryEntry
from inquiries.reminders import inquiry_new_alert
from inquiries.services.shared import _entry_add, _lock, _message_resident, case_url
from inquiries.services.workflow import (
    _assignee_required,
    _transition,
    _transition_refused,
    transition_allowed,
)
from stations.selectors import user_is_member

REFERENCE_PREFIX = "HL"


# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------
def first_response_due_compute(*, urgency: str, received: datetime.datetime) -> datetime.datetime:
    """Return when the first reply is due, from ``INQUIRY_FIRST_RESPONSE_TARGETS``."""
    targets = settings.INQUIRY_FIRST_RESPONSE_TARGETS
    target = targets.get(urgency) or targets[Urgency.NORMAL]
    due = received
    if "hours" in target:
        due += datetime.timedelta(hours=target["hours"])
    if "working_days" in target:
        local = timezone.localtime(due)
        remaining = target["working_days"]
        while remaining > 0:
            local += datetime.timedelta(days=1)
            if local.weekday() < 5:  # Monday to Friday
                remaining -= 1
        due = local
    return due


def _assignee_allowed(assignee, station) -> bool:
    """Return whether ``assignee`` may take a case of ``station``: active staff of it."""
    return bool(assignee and assignee.is_active and user_is_member(assignee, station))


def _not_a_member() -> ValidationError:
    return ValidationError(ErrorCode.NOT_A_MEMBER.label, code=ErrorCode.NOT_A_MEMBER)


def _closed_to_replies() -> ValidationError:
    return ValidationError(
        gettext("This case is closed; reopen it before replying."), code=ErrorCode.CASE_CLOSED
    )


# ------------------------------------------------------------------------------
# Help requests
# ------------------------------------------------------------------------------
@dataclass
class Submitted:
    """A new case and the raw token of its private link (shown once, never stored)."""

    inquiry: Inquiry
    token: str


@retry_on_lost_connection
def inquiry_submit(
    *,
    station,
    category: str,
    subject: str,
    description: str,
    urgency: str,
    contact_name: str,
    contact_method: str,
    contact_time: str,
    language: str,
    phone: str = "",
    email: str = "",
    wechat_id: str = "",
    photo=None,
    resident=None,
    source: str = Source.HELP_FORM,
) -> Submitted:
    """Record a help request as a new case and queue the resident's confirmation."""
    if category not in Category.values:
        raise ValidationError({"category": gettext("Choose one of the categories.")})
    with transaction.atomic():
        now = timezone.now()
        raw, digest = token_new()
        inquiry = Inquiry(
            station=station,
            resident=resident,
            source=source,
            category=category,
            subject=subject,
            description=description,
            urgency=urgency,
            contact_name=contact_name,
            contact_method=contact_method,
            contact_time=contact_time,
            phone=phone or "",
            email=email or "",
            wechat_id=wechat_id or "",
            language=language,
            token_hash=digest,
            created_at=now,
            first_response_due=first_response_due_compute(urgency=urgency, received=now),
        )
        inquiry.full_clean(exclude=["reference", "token_hash", "photo", "resident", "station"])
        reference_save(inquiry, prefix=REFERENCE_PREFIX)
        if photo is not None:
            # Stored encrypted like registration documents: a photo may show a face, a
            # document or a home (PIPL art. 51). Read back through inquiry_photo_bytes.
            photo.seek(0)  # a second try (retry_on_lost_connection) reads it again
            encrypted = ContentFile(encrypt_bytes(photo.read()))
            inquiry.photo.save("photo.jpg", encrypted, save=False)
        try:
            if photo is not None:
                inquiry.save(update_fields=["photo"])
            _message_resident(
                inquiry=inquiry,
                template="inquiries/received",
                key=f"inquiry:{inquiry.pk}:received",
                context={
                    "secret_case_url": case_url(raw),
                    "emergency": inquiry.category == Category.SAFETY
                    or inquiry.urgency == Urgency.URGENT,
                },
            )
            inquiry_new_alert(inquiry=inquiry)
        except Exception:
            if inquiry.photo:  # the case is rolled back: its file must not stay behind
                inquiry.photo.delete(save=False)
            raise
    return Submitted(inquiry=inquiry, token=raw)


# ------------------------------------------------------------------------------
# Case workflow (staff)
# ------------------------------------------------------------------------------
def inquiry_transition(*, inquiry: Inquiry, to_status: str, by=None) -> Inquiry:
    """Move a case to ``to_status`` if the workflow allows it (staff action)."""
    with transaction.atomic():
        locked = _lock(inquiry)
        _transition(inquiry=locked, to_status=to_status, by=by)
    return locked


def inquiry_classify(*, inquiry: Inquiry, category: str, urgency: str, by=None) -> Inquiry:
    """Correct a case's category or urgency; the first-response target follows the urgency."""
    if category not in Category.values or urgency not in Urgency.values:
        raise ValidationError(
            gettext("Choose a valid category and urgency."), code="invalid_choice"
        )
    with transaction.atomic():
        locked = _lock(inquiry)
        locked.category = category
        if urgency != locked.urgency:
            locked.urgency = urgency
            locked.first_response_due = first_response_due_compute(
                urgency=urgency, received=locked.created_at
            )
        locked.save(update_fields=["category", "urgency", "first_response_due", "updated_at"])
    return locked


def inquiry_assign(*, inquiry: Inquiry, assignee, by=None) -> Inquiry:
    """Give a case to ``assignee``, a staff member of its station; a new case becomes assigned."""
    with transaction.atomic():
        locked = _lock(inquiry)
        if not _assignee_allowed(assignee, locked.station):
            raise _not_a_member()
        if locked.status in (Status.RESOLVED, Status.CLOSED):
            raise ValidationError(
                gettext("A resolved or closed case cannot be assigned; reopen it first."),
                code=ErrorCode.INVALID_TRANSITION,
            )
        locked.assigned_to = assignee
        locked.save(update_fields=["assigned_to", "updated_at"])
        if locked.status in (Status.NEW, Status.REOPENED):
            _transition(inquiry=locked, to_status=Status.ASSIGNED, by=by)
        else:
            body = f"assigned:{assignee.get_full_name() or assignee.get_username()}"
            _entry_add(
                inquiry=locked,
                kind=EntryKind.EVENT,
                author_kind=Author.STAFF,
                author=by,
                body=body,
            )
    return locked


def inquiries_assign(*, inquiries, assignee, by=None) -> int:
    """Assign every case of ``inquiries`` to ``assignee`` — all or none."""
    with transaction.atomic():
        count = 0
        for inquiry in inquiries.order_by("pk"):
            inquiry_assign(inquiry=inquiry, assignee=assignee, by=by)
            count += 1
    return count


def _reply_moves_on(locked: Inquiry, *, by) -> str:
    """
    Return the status a staff reply without a chosen one gives ``locked``: the resident's turn.

    An unassigned new (or reopened) case becomes the replying officer's first, so a reply
    never leaves a case "new" and nobody's. A case already waiting, resolved or with a
    replier from outside its station (who cannot be assigned) keeps its status.
    """
    if locked.status in (Status.NEW, Status.REOPENED) and locked.assigned_to_id is None:
        if not _assignee_allowed(by, locked.station):
            return ""
        locked.assigned_to = by
        locked.save(update_fields=["assigned_to", "updated_at"])
        _transition(inquiry=locked, to_status=Status.ASSIGNED, by=by)
    if locked.status in (Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED):
        return Status.WAITING
    return ""


def inquiry_reply(*, inquiry: Inquiry, body: str, by, to_status: str = "") -> InquiryEntry:
    """
    Add a public reply, send it to the resident in their language, and move the case on.

    Without ``to_status`` the case becomes "waiting for resident" (``_reply_moves_on``).
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("Write the reply first."), code="required")
    with transaction.atomic():
        locked = _lock(inquiry)
        if locked.status == Status.CLOSED:
            raise _closed_to_replies()
        if not to_status:  # taken by the replier first, so the thread reads in order
            to_status = _reply_moves_on(locked, by=by)
        entry = _entry_add(
            inquiry=locked, kind=EntryKind.REPLY, author_kind=Author.STAFF, author=by, body=body
        )
        if locked.first_responded_at is None:
            locked.first_responded_at = entry.created_at
            locked.save(update_fields=["first_responded_at", "updated_at"])
        if to_status and to_status != locked.status:
            _transition(inquiry=locked, to_status=to_status, by=by)
        _message_resident(
            inquiry=locked,
            template="inquiries/reply",
            key=f"inquiry-entry:{entry.pk}:reply",
            context={"reply": body, "case_path": ""},
        )
    return entry


def inquiry_note_add(*, inquiry: Inquiry, body: str, by) -> InquiryEntry:
    """Add an internal note: kept in the thread for staff, never shown or sent to the resident."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("Write the note first."), code="required")
    with transaction.atomic():
        locked = _lock(inquiry)
        return _entry_add(
            inquiry=locked, kind=EntryKind.NOTE, author_kind=Author.STAFF, author=by, body=body
        )


# ------------------------------------------------------------------------------
# The case form of the admin: several changes saved as one
# ------------------------------------------------------------------------------
def inquiry_update_validate(
    *,
    inquiry: Inquiry,
    assignee=None,
    entry_kind: str = EntryKind.REPLY,
    entry_body: str = "",
    to_status: str = "",
) -> None:
    """
    Raise every reason ``inquiry_update`` would refuse these changes, keyed by argument.

    The case form calls it so that each message shows beside its field, nothing saved.
    """
    errors: dict[str, list[ValidationError]] = {}
    status = inquiry.status
    if assignee is not None and assignee.pk != inquiry.assigned_to_id:
        if not _assignee_allowed(assignee, inquiry.station):
            errors.setdefault("assignee", []).append(_not_a_member())
        elif status in (Status.NEW, Status.REOPENED):
            status = Status.ASSIGNED  # what inquiry_assign will make of it
    if to_status == Status.ASSIGNED and assignee is None:
        errors.setdefault("assignee", []).append(_assignee_required())
    if to_status and to_status != status and not transition_allowed(status, to_status):
        errors.setdefault("to_status", []).append(_transition_refused(status, to_status))
    if entry_body and entry_kind != EntryKind.NOTE and status == Status.CLOSED:  # a reply
        errors.setdefault("entry_body", []).append(_closed_to_replies())
    if errors:
        raise ValidationError(errors)


def inquiry_update(
    *,
    inquiry: Inquiry,
    by,
    category: str,
    urgency: str,
    assignee=None,
    entry_kind: str = EntryKind.REPLY,
    entry_body: str = "",
    to_status: str = "",
) -> Inquiry:
    """
    Save the case form as one change: classification, assignee, a thread entry, a status.

    Only what differs from the case is applied; a reply carries the status change with it.
    All or nothing, refused for the reasons ``inquiry_update_validate`` gives.
    """
    with transaction.atomic():
        locked = _lock(inquiry)
        inquiry_update_validate(
            inquiry=locked,
            assignee=assignee,
            entry_kind=entry_kind,
            entry_body=entry_body,
            to_status=to_status,
        )
        if category != locked.category or urgency != locked.urgency:
            inquiry_classify(inquiry=locked, category=category, urgency=urgency, by=by)
        if assignee is not None and assignee.pk != locked.assigned_to_id:
            inquiry_assign(inquiry=locked, assignee=assignee, by=by)
        if entry_body and entry_kind == EntryKind.NOTE:
            inquiry_note_add(inquiry=locked, body=entry_body, by=by)
        elif entry_body:
            inquiry_reply(inquiry=locked, body=entry_body, by=by, to_status=to_status)
            to_status = ""  # the reply has moved the case
        locked.refresh_from_db()
        if to_status and to_status != locked.status:
            inquiry_transition(inquiry=locked, to_status=to_status, by=by)
            locked.refresh_from_db()
    return locked


# ------------------------------------------------------------------------------
# The resident's side
# ------------------------------------------------------------------------------
def resident_can_reply(inquiry: Inquiry, *, now=None) -> bool:
    """Return whether the resident may still reply (closed cases only within the grace period)."""
    if inquiry.status != Status.CLOSED:
        return True
    now = now or timezone.now()
    grace = datetime.timedelta(days=settings.INQUIRY_REPLY_GRACE_DAYS)
    return inquiry.closed_at is not None and inquiry.closed_at + grace > now


def inquiry_resident_reply(*, inquiry: Inquiry, body: str) -> InquiryEntry:
    """Add the resident's reply; it reopens a resolved (or recently closed) case."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("Write your reply first."), code="required")
    with transaction.atomic():
        locked = _lock(inquiry)
        if not resident_can_reply(locked):
            raise ValidationError(ErrorCode.CASE_CLOSED.label, code=ErrorCode.CASE_CLOSED)
        entry = _entry_add(
            inquiry=locked, kind=EntryKind.REPLY, author_kind=Author.RESIDENT, body=body
        )
        if locked.status in (Status.RESOLVED, Status.CLOSED):
            _transition(inquiry=locked, to_status=Status.REOPENED, author_kind=Author.RESIDENT)
        elif locked.status == Status.WAITING:
            _transition(inquiry=locked, to_status=Status.IN_PROGRESS, author_kind=Author.RESIDENT)
    return entry
