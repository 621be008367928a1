"""
Writes of check-in rounds: a station asks every active resident whether anything troubles
them; each answer is recorded once, and a troubled answer becomes a case.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.tokens import token_new
from inquiries.constants import (
    NOTHING_TROUBLES_ME,
    Category,
    ContactMethod,
    ErrorCode,
    RoundStatus,
    Source,
    Urgency,
)
from inquiries.models import CheckInAnswer, CheckInInvitation, CheckInRound, Inquiry
from inquiries.services.cases import inquiry_submit
from inquiries.services.shared import _site_url
from notifications.constants import Channel
from notifications.services import message_queue
from registration.selectors import resident_route, residents_for_check_in

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------
# Rounds
# ------------------------------------------------------------------------------
def check_in_round_save(*, round: CheckInRound, by=None) -> CheckInRound:
    """Save a round prepared by a manager; a new round records who created it."""
    with transaction.atomic():
        if round._state.adding:
            round.created_by = by
        round.save()
    return round


def check_in_round_send_request(*, round: CheckInRound, by=None) -> CheckInRound:
    """Mark a round for sending and hand it to the worker after commit (admin action)."""
    # Cycle: inquiries.tasks imports check_in_round_send from this module.
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


# ------------------------------------------------------------------------------
# Answers
# ------------------------------------------------------------------------------
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
    route = resident_route(resident, wechat=False)  # how staff would answer: email or phone
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
