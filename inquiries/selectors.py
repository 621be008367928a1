"""Reads of the inquiries app. Staff see only their stations' cases and rounds."""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from core.crypto import decrypt_bytes
from core.tokens import token_hash, token_looks_valid
from inquiries.constants import OPEN_STATUSES, EntryKind, Status
from inquiries.models import (
    CheckInAnswer,
    CheckInInvitation,
    CheckInRound,
    Inquiry,
    InquiryEntry,
    InquiryFeedback,
    ReplyTemplate,
)
from notifications.constants import MessageStatus
from notifications.models import Message
from stations.selectors import station_ids_for_user, station_staff, user_sees_all_stations


def inquiries_for_user(user) -> QuerySet[Inquiry]:
    """Return the cases ``user`` may see: those of their stations (all for city admins)."""
    if user_sees_all_stations(user):
        return Inquiry.objects.all()
    return Inquiry.objects.filter(station_id__in=station_ids_for_user(user))


def rounds_for_user(user) -> QuerySet[CheckInRound]:
    """Return the check-in rounds ``user`` may see."""
    if user_sees_all_stations(user):
        return CheckInRound.objects.all()
    return CheckInRound.objects.filter(station_id__in=station_ids_for_user(user))


def _by_token(queryset, raw: str):
    if not token_looks_valid(raw or ""):
        return None
    return queryset.filter(token_hash=token_hash(raw)).first()


def inquiry_get_by_token(*, token: str) -> Inquiry | None:
    """Return the case whose private link carries ``token``, or ``None``."""
    return _by_token(Inquiry.objects.select_related("station"), token)


def feedback_get_by_token(*, token: str) -> InquiryFeedback | None:
    """Return the feedback request of the link ``token``, or ``None``."""
    return _by_token(InquiryFeedback.objects.select_related("inquiry__station"), token)


def invitation_get_by_token(*, token: str) -> CheckInInvitation | None:
    """Return the check-in invitation of the link ``token``, or ``None``."""
    return _by_token(
        CheckInInvitation.objects.select_related("round__station").prefetch_related(
            "round__intros"
        ),
        token,
    )


def inquiry_public_thread(*, inquiry: Inquiry) -> QuerySet[InquiryEntry]:
    """Return the replies of a case the resident may see — never notes or events."""
    return InquiryEntry.objects.filter(inquiry=inquiry, kind=EntryKind.REPLY).order_by(
        "created_at", "pk"
    )


def inquiry_thread(*, inquiry: Inquiry) -> QuerySet[InquiryEntry]:
    """Return the whole thread of a case, for staff."""
    return InquiryEntry.objects.filter(inquiry=inquiry).select_related("author")


def staff_for_stations(*, station_ids) -> QuerySet:
    """Return the users who staff every station in ``station_ids`` (who may take its cases)."""
    users = get_user_model().objects.filter(is_active=True)
    for station_id in set(station_ids):
        users = users.filter(pk__in=station_staff(station_ids=[station_id]).values("user_id"))
    return users.order_by("username")


def reply_templates_for(*, inquiry: Inquiry) -> QuerySet[ReplyTemplate]:
    """Return the active reply templates for a case's station and language."""
    return ReplyTemplate.objects.filter(
        Q(station__isnull=True) | Q(station_id=inquiry.station_id),
        language=inquiry.language,
        is_active=True,
    ).order_by("title")


def round_statistics(*, round: CheckInRound) -> dict:
    """Return invited, delivered, answered, cases raised and the rating distribution."""
    invitations = CheckInInvitation.objects.filter(round=round)
    counts = invitations.aggregate(
        invited=Count("pk"),
        answered=Count("answer"),
        cases=Count("answer__inquiry"),
    )
    content_type = ContentType.objects.get_for_model(CheckInInvitation)
    counts["delivered"] = Message.objects.filter(
        concerning_type=content_type,
        concerning_id__in=invitations.annotate(key=Cast("pk", CharField())).values("key"),
        status=MessageStatus.SENT,
    ).count()
    ratings = dict(
        CheckInAnswer.objects.filter(invitation__round=round)
        .values_list("rating")
        .annotate(n=Count("pk"))
        .values_list("rating", "n")
    )
    counts["ratings"] = [(value, ratings.get(value, 0)) for value in range(1, 6)]
    return counts


def inquiries_overdue(*, now=None) -> QuerySet[Inquiry]:
    """Return the open cases past their first-response target with no reply yet."""
    return Inquiry.objects.overdue(now=now or timezone.now())


def inquiries_figures_for_user(user) -> dict[str, int]:
    """Return the case figures of the staff dashboard: new, unassigned, overdue, mine open."""
    now = timezone.now()
    cases = inquiries_for_user(user)
    return cases.aggregate(
        new=Count("pk", filter=Q(status=Status.NEW)),
        unassigned=Count("pk", filter=Q(status__in=OPEN_STATUSES, assigned_to__isnull=True)),
        overdue=Count(
            "pk",
            filter=Q(
                status__in=OPEN_STATUSES,
                first_responded_at__isnull=True,
                first_response_due__lt=now,
            ),
        ),
        mine_open=Count("pk", filter=Q(status__in=OPEN_STATUSES, assigned_to=user)),
    )


def inquiry_photo_bytes(*, inquiry: Inquiry) -> bytes:
    """Return the case's photo (a sanitised JPEG), decrypted from private storage."""
    with inquiry.photo.open("rb") as handle:
        return decrypt_bytes(handle.read())
