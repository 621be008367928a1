"""
Writes of the inquiries app: help requests, the case workflow, check-in rounds, feedback.

Every function is one transaction; messages to residents and staff go through the
notifications outbox in the same transaction and are delivered after commit.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.crypto import encrypt_bytes
from core.db import retry_on_lost_connection
from core.references import reference_save
from core.tokens import token_new
from inquiries.constants import (
    NOTHING_TROUBLES_ME,
    TRANSITIONS,
    Author,
    Category,
    ContactMethod,
    EntryKind,
    ErrorCode,
    RoundStatus,
    Source,
    Status,
    Urgency,
)
from inquiries.models import (
    CheckInAnswer,
    CheckInInvitation,
    CheckInRound,
    Inquiry,
    InquiryEntry,
    InquiryFeedback,
)
from notifications.constants import Channel
from notifications.services import message_queue
from registration.selectors import resident_route, residents_for_check_in
from stations.selectors import user_is_member

logger = logging.getLogger(__name__)

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


def _site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def case_url(raw_token: str) -> str:
    return _site_url(reverse("inquiries:case", kwargs={"token": raw_token}))


def _resident_route(inquiry: Inquiry) -> tuple[str, str] | None:
    """Return ``(channel, address)`` to reach the resident of ``inquiry``, or ``None``."""
    email = inquiry.email
    phone = str(inquiry.phone or "")
    if inquiry.contact_method == ContactMethod.EMAIL and email:
        return Channel.EMAIL, email
    if inquiry.contact_method == ContactMethod.PHONE and phone:
        return Channel.SMS, phone
    if email:
        return Channel.EMAIL, email
    if phone:
        return Channel.SMS, phone
    return None


def _message_resident(*, inquiry: Inquiry, template: str, key: str, context: dict) -> bool:
    route = _resident_route(inquiry)
    if route is None:
        return False
    channel, to = route
    message_queue(
        template=template,
        language=inquiry.language,
        channel=channel,
        to=to,
        context={"reference": inquiry.reference, "subject": inquiry.subject, **context},
        idempotency_key=key,
        station=inquiry.station,
        concerning=inquiry,
        recipient_name=inquiry.contact_name,
    )
    return True


def _entry_add(*, inquiry, kind, author_kind, body, author=None) -> InquiryEntry:
    return InquiryEntry.objects.create(
        inquiry=inquiry, kind=kind, author_kind=author_kind, author=author, body=body
    )


def _lock(inquiry: Inquiry) -> Inquiry:
    return (
        Inquiry.objects.select_for_update(of=("self",)).select_related("station").get(pk=inquiry.pk)
    )


def _status_label(status: str) -> str:
    return str(Status(status).label)


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
        except Exception:
            if inquiry.photo:  # the case is rolled back: its file must not stay behind
                inquiry.photo.delete(save=False)
            raise
    return Submitted(inquiry=inquiry, token=raw)


# ------------------------------------------------------------------------------
# Case workflow (staff)
# ------------------------------------------------------------------------------
def transition_allowed(current: str, target: str) -> bool:
    """Return whether a case may move from ``current`` to ``target``."""
    return target in TRANSITIONS.get(current, frozenset())


def _transition(*, inquiry: Inquiry, to_status: str, by=None, author_kind=Author.STAFF) -> None:
    """Move a locked case to ``to_status`` (or raise), stamping times and the thread."""
    if not transition_allowed(inquiry.status, to_status):
        raise ValidationError(
            gettext("A case cannot move from “%(current)s” to “%(target)s”.")
            % {"current": _status_label(inquiry.status), "target": _status_label(to_status)},
            code=ErrorCode.INVALID_TRANSITION,
        )
    if to_status == Status.ASSIGNED and inquiry.assigned_to_id is None:
        raise ValidationError(
            gettext("Choose the staff member to assign the case to."), code="assignee_required"
        )
    previous = inquiry.status
    now = timezone.now()
    inquiry.status = to_status
    fields = ["status", "updated_at"]
    if to_status == Status.RESOLVED:
        inquiry.resolved_at = now
        fields.append("resolved_at")
    elif to_status == Status.CLOSED:
        inquiry.closed_at = now
        fields.append("closed_at")
    inquiry.save(update_fields=fields)
    body = f"status:{previous}:{to_status}"
    _entry_add(inquiry=inquiry, kind=EntryKind.EVENT, author_kind=author_kind, author=by, body=body)
    if to_status == Status.RESOLVED:
        _feedback_request(inquiry=inquiry)


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
        if not (assignee and assignee.is_active and user_is_member(assignee, locked.station)):
            raise ValidationError(ErrorCode.NOT_A_MEMBER.label, code=ErrorCode.NOT_A_MEMBER)
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


def inquiry_reply(*, inquiry: Inquiry, body: str, by, to_status: str = "") -> InquiryEntry:
    """Add a public reply, send it to the resident in their language, optionally move status."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("Write the reply first."), code="required")
    with transaction.atomic():
        locked = _lock(inquiry)
        if locked.status == Status.CLOSED:
            raise ValidationError(
                gettext("This case is closed; reopen it before replying."),
                code=ErrorCode.CASE_CLOSED,
            )
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


# ------------------------------------------------------------------------------
# Feedback after resolution
# ------------------------------------------------------------------------------
def _feedback_request(*, inquiry: Inquiry) -> InquiryFeedback:
    raw, digest = token_new()
    now = timezone.now()
    feedback = InquiryFeedback.objects.create(
        inquiry=inquiry,
        token_hash=digest,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.INQUIRY_FEEDBACK_VALID_DAYS),
    )
    _message_resident(
        inquiry=inquiry,
        template="inquiries/resolved",
        key=f"inquiry-feedback:{feedback.pk}",
        context={
            "secret_feedback_url": _site_url(reverse("inquiries:feedback", kwargs={"token": raw})),
            "valid_days": settings.INQUIRY_FEEDBACK_VALID_DAYS,
        },
    )
    feedback.raw_token = raw  # for the caller (tests, admin message); never stored
    return feedback


def feedback_submit(
    *, feedback: InquiryFeedback, helped: bool, rating: int, comment: str = ""
) -> InquiryFeedback:
    """Record the resident's feedback once; "not helped" reopens the case."""
    with transaction.atomic():
        locked = InquiryFeedback.objects.select_for_update().get(pk=feedback.pk)
        if locked.answered_at is not None:
            raise ValidationError(ErrorCode.TOKEN_USED.label, code=ErrorCode.TOKEN_USED)
        if locked.expires_at <= timezone.now():
            raise ValidationError(ErrorCode.TOKEN_EXPIRED.label, code=ErrorCode.TOKEN_EXPIRED)
        locked.helped = helped
        locked.rating = rating
        locked.comment = comment or ""
        locked.answered_at = timezone.now()
        locked.full_clean()
        locked.save()
        if not helped:
            inquiry = _lock(locked.inquiry)
            if inquiry.status in (Status.RESOLVED, Status.CLOSED):
                _transition(inquiry=inquiry, to_status=Status.REOPENED, author_kind=Author.RESIDENT)
            body = f"not_helped:{rating}:{locked.comment}"
            _entry_add(
                inquiry=inquiry, kind=EntryKind.EVENT, author_kind=Author.RESIDENT, body=body
            )
    return locked


# ------------------------------------------------------------------------------
# Check-in rounds
# ------------------------------------------------------------------------------
def check_in_round_send_request(*, round: CheckInRound, by=None) -> CheckInRound:
    """Mark a round for sending and hand it to the worker after commit (admin action)."""
    # Cycle: inquiries.tasks imports this module.
    from inquiries.tasks import check_in_round_send_task

    with transaction.atomic():
        locked = CheckInRound.objects.select_for_update().get(pk=round.pk)
        if not locked.intros.exists():
            raise ValidationError(
                gettext("Write the introduction in at least one language first."),
                code="intro_missing",
            )
        if locked.status == RoundStatus.DRAFT:
            locked.status = RoundStatus.SENDING
            locked.save(update_fields=["status"])
        round_id = locked.pk
        transaction.on_commit(lambda: check_in_round_send_task.delay(round_id))
    return locked


def check_in_round_send(*, round_id: int) -> int:
    """
    Invite every eligible resident of the round's station not yet invited; return how many.

    Safe to run twice (late acks, a second click): the round is locked while inviting and
    a unique constraint allows one invitation per resident and round.
    """
    batch_size = settings.INQUIRY_CHECK_IN_BATCH_SIZE
    created = 0
    with transaction.atomic():
        round = (
            CheckInRound.objects.select_for_update(of=("self",))
            .select_related("station")
            .filter(pk=round_id)
            .first()
        )
        if round is None:
            return 0
        intros = {i.language: i.text for i in round.intros.all()}
        invited = CheckInInvitation.objects.filter(round=round).values("resident_id")
        residents = (
            residents_for_check_in(station=round.station).exclude(pk__in=invited).order_by("pk")
        )
        now = timezone.now()
        expires = now + datetime.timedelta(days=round.valid_days)
        for resident in residents.iterator(chunk_size=batch_size):
            channel, to = resident_route(resident) or ("", "")
            language = resident.preferred_language or settings.LANGUAGE_CODE
            raw, digest = token_new()
            invitation = CheckInInvitation.objects.create(
                round=round,
                resident=resident,
                token_hash=digest,
                language=language,
                channel=channel,
                expires_at=expires,
                created_at=now,
            )
            created += 1
            if not channel:
                continue
            message_queue(
                template="inquiries/check_in",
                language=language,
                channel=channel,
                to=to,
                context={
                    "intro": intros.get(language)
                    or intros.get(settings.LANGUAGE_CODE)
                    or next(iter(intros.values()), ""),
                    "valid_until": timezone.localdate(expires).isoformat(),
                    "secret_check_in_url": _site_url(
                        reverse("inquiries:check_in", kwargs={"token": raw})
                    ),
                },
                idempotency_key=f"check-in:{invitation.pk}",
                station=round.station,
                concerning=invitation,
                recipient_name=_resident_name(resident),
            )
        round.status = RoundStatus.SENT
        round.sent_at = now
        round.save(update_fields=["status", "sent_at"])
    logger.info("Check-in round %s: %s residents invited.", round_id, created)
    return created


def _resident_name(resident) -> str:
    for attribute in ("display_name", "full_name", "name"):
        value = getattr(resident, attribute, None)
        if callable(value):
            value = value()
        if value:
            return str(value)
    return ""


def check_in_troubled(*, rating: int, troubles: str, wants_contact: bool) -> bool:
    """Return whether a check-in answer asks for a case: low rating, trouble, or "contact me"."""
    text = " ".join((troubles or "").lower().split()).strip(" .!。！")
    return rating <= 2 or wants_contact or text not in NOTHING_TROUBLES_ME


def check_in_answer_submit(
    *,
    invitation: CheckInInvitation,
    rating: int,
    troubles: str = "",
    wants_contact: bool = False,
    contact_method: str = "",
) -> CheckInAnswer:
    """Record the answer to an invitation once; a troubled answer becomes a case."""
    with transaction.atomic():
        locked = (
            CheckInInvitation.objects.select_for_update(of=("self",))
            .select_related("round__station", "resident")
            .get(pk=invitation.pk)
        )
        if CheckInAnswer.objects.filter(invitation=locked).exists():
            raise ValidationError(ErrorCode.TOKEN_USED.label, code=ErrorCode.TOKEN_USED)
        if locked.expires_at <= timezone.now():
            raise ValidationError(ErrorCode.TOKEN_EXPIRED.label, code=ErrorCode.TOKEN_EXPIRED)
        answer = CheckInAnswer(
            invitation=locked,
            rating=rating,
            troubles=(troubles or "").strip(),
            wants_contact=wants_contact,
            contact_method=contact_method if wants_contact else "",
        )
        answer.full_clean(exclude=["inquiry"])
        answer.save()
        if check_in_troubled(rating=rating, troubles=answer.troubles, wants_contact=wants_contact):
            answer.inquiry = _check_in_case(answer=answer)
            answer.save(update_fields=["inquiry"])
    return answer


def _check_in_case(*, answer: CheckInAnswer) -> Inquiry:
    invitation = answer.invitation
    resident = invitation.resident
    round = invitation.round
    language = invitation.language
    with translation.override(language):
        subject = gettext("Check-in answer: %(round)s") % {"round": round.title}
        lines = [
            gettext("The resident answered the check-in round “%(round)s”:")
            % {"round": round.title},
            "",
            "> " + gettext("How is your life here? %(rating)s/5") % {"rating": answer.rating},
            "> " + gettext("Is anything troubling you?"),
        ]
        lines += ["> " + line for line in (answer.troubles or "—").splitlines()]
        lines.append(
            "> "
            + gettext("Would you like us to contact you? %(answer)s")
            % {
                "answer": (
                    gettext("yes, by %(method)s")
                    % {"method": ContactMethod(answer.contact_method).label}
                    if answer.wants_contact and answer.contact_method
                    else gettext("yes")
                    if answer.wants_contact
                    else gettext("no")
                )
            }
        )
    email = getattr(resident, "email", "") or ""
    phone = str(getattr(resident, "phone", "") or "")
    wechat = getattr(resident, "wechat_id", "") or ""
    route = resident_route(resident)
    method = answer.contact_method or (
        ContactMethod.EMAIL
        if route and route[0] == Channel.EMAIL
        else ContactMethod.PHONE
        if phone
        else ContactMethod.WECHAT
    )
    return inquiry_submit(
        station=round.station,
        category=Category.OTHER,
        subject=subject[:120],
        description="\n".join(lines)[:4000],
        urgency=Urgency.URGENT if answer.rating == 1 else Urgency.NORMAL,
        contact_name=(_resident_name(resident) or "—")[:100],
        contact_method=method,
        contact_time="any",
        language=language,
        phone=phone,
        email=email,
        wechat_id=wechat[:64],
        resident=resident,
        source=Source.CHECK_IN,
    ).inquiry
