"""
The arrival record sent as a photo: a bound resident's entry stamp, from WeChat to a re-entry.

1. ``arrival_photo_receive`` (the callback, within WeChat's 5 seconds): one row per WeChat
   ``MsgId`` (WeChat sends a message up to three times when it waits too long) and a new
   link token; the download is queued after commit.
2. ``arrival_photo_fetch`` (the Celery task ``wechat.arrival_photo_fetch``): the media is
   downloaded (size cap), cleaned by the project's photo pipeline (``core.images`` through
   ``registration.services.attempt_photo_add``: header pixel check, re-encoded, EXIF
   stripped, encrypted at rest) and kept as the entry stamp of a form attempt. A file that
   is no image, or too large, is refused and nothing is kept; the resident hears why in
   their next reply and on the page.
3. ``arrival_photo_confirm`` (the page the reply links to): the resident confirms the
   dates and the address, and ``registration.services.registration_reenter`` records the
   return exactly as the private link's "I'm back from a trip abroad" does.

The link carries a random token (256 bits, only its hash stored) sent to the bound WeChat
only; it opens this one return of this one registration, for ``WECHAT_ARRIVAL_LINK_HOURS``
hours, and never shows the private link.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.tokens import token_hash, token_looks_valid, token_new
from registration import services as registration_services
from registration.constants import ACTIVE_STATUSES, DocumentKind
from registration.models import Registration
from wechat import client
from wechat.constants import ArrivalPhotoStatus, ArrivalRefusal
from wechat.models import ArrivalPhoto

logger = logging.getLogger(__name__)
S = ArrivalPhotoStatus


def arrival_link_url(token: str) -> str:
    """Return the absolute link of an arrival photo's page (SITE_URL, never the Host)."""
    return settings.SITE_URL + reverse("wechat:arrival", kwargs={"token": token})


def arrival_photo_receive(*, registration: Registration, msg_id: str, media_id: str) -> str:
    """
    Record the photo ``media_id`` that the resident of ``registration`` sent (WeChat
    message ``msg_id``) and queue its download; return the raw token of its page.

    The same ``msg_id`` again (WeChat's retry) gets a new token, as the earlier answer
    never reached the resident, and nothing is downloaded twice.
    """
    raw, hashed = token_new()
    with transaction.atomic():
        photo = ArrivalPhoto.objects.select_for_update().filter(msg_id=msg_id).first()
        if photo is not None:
            photo.token_hash = hashed
            photo.save(update_fields=["token_hash"])
            return raw
        try:
            with transaction.atomic():
                photo = ArrivalPhoto.objects.create(
                    msg_id=msg_id, registration=registration, media_id=media_id, token_hash=hashed
                )
        except IntegrityError:  # the same message, in a retry that came in at once
            ArrivalPhoto.objects.filter(msg_id=msg_id).update(token_hash=hashed)
            return raw
        photo_id = photo.pk
        transaction.on_commit(lambda: _publish(photo_id), robust=True)
    logger.info("WeChat arrival photo %s recorded for registration %s.", photo_id, registration.pk)
    return raw


def _publish(photo_id: int) -> bool:
    """Queue the download; when the broker is away, log it (the sweep queues it later)."""
    # Not at the top: the tasks module imports this one.
    from wechat.tasks import arrival_photo_fetch as fetch_task

    try:
        fetch_task.apply_async(args=[photo_id])
    except Exception:
        logger.warning(
            "Could not queue the download of WeChat arrival photo %s; the sweep will retry.",
            photo_id,
            exc_info=True,
        )
        return False
    return True


def arrival_photos_sweep(*, now: datetime.datetime | None = None) -> int:
    """
    Queue again the download of every photo still waiting after
    ``WECHAT_FETCH_SWEEP_AFTER`` seconds (its task never reached the broker, or a worker
    lost it) while WeChat still keeps the media; return how many were queued.
    """
    now = now or timezone.now()
    waiting = ArrivalPhoto.objects.filter(
        status=S.RECEIVED,
        created_at__lt=now - datetime.timedelta(seconds=settings.WECHAT_FETCH_SWEEP_AFTER),
        created_at__gte=now - datetime.timedelta(days=3),
    ).values_list("pk", flat=True)
    return sum(_publish(photo_id) for photo_id in waiting)


def _refuse(photo: ArrivalPhoto, refusal: str) -> None:
    photo.status = S.REFUSED
    photo.refusal = refusal
    photo.fetched_at = timezone.now()
    photo.save(update_fields=["status", "refusal", "fetched_at"])
    logger.warning("WeChat arrival photo %s refused (%s).", photo.pk, refusal)


def arrival_photo_fetch(*, photo_id: int) -> str:
    """
    Download and keep the photo of the row ``photo_id`` if it still waits; return its
    status. ``client.WeChatUnreachable`` propagates (the task tries again later).
    """
    photo = ArrivalPhoto.objects.filter(pk=photo_id).select_related("registration").first()
    if photo is None or photo.status != S.RECEIVED:
        return photo.status if photo else ""
    try:
        data, _content_type = client.media_download(photo.media_id)
    except client.WeChatUnreachable:
        raise
    except client.WeChatError as error:
        refusal = (
            ArrivalRefusal.TOO_LARGE
            if error.code == client.INVALID_MEDIA_SIZE
            else ArrivalRefusal.UNAVAILABLE
        )
        with transaction.atomic():
            _refuse(_locked(photo_id), refusal)
        return S.REFUSED
    # The content type WeChat states is not trusted: the pipeline decides what an image is.
    attempt_raw, attempt = registration_services.attempt_start(station=photo.registration.station)
    del attempt_raw  # the page finds the attempt through this row, not a session
    try:
        registration_services.attempt_photo_add(
            attempt=attempt,
            kind=DocumentKind.ENTRY_STAMP.value,
            uploaded_file=ContentFile(data, name="wechat-photo"),
        )
    except ValidationError as error:
        attempt.delete()
        refusal = (
            ArrivalRefusal.TOO_LARGE
            if error.code in ("image_too_large", "image_too_many_pixels")
            else ArrivalRefusal.NOT_AN_IMAGE
        )
        with transaction.atomic():
            _refuse(_locked(photo_id), refusal)
        return S.REFUSED
    with transaction.atomic():
        locked = _locked(photo_id)
        if locked.status != S.RECEIVED:  # a second run got there first
            attempt.delete()
            return locked.status
        locked.status = S.READY
        locked.attempt = attempt
        locked.fetched_at = timezone.now()
        locked.save(update_fields=["status", "attempt", "fetched_at"])
    logger.info("WeChat arrival photo %s kept as an entry stamp.", photo_id)
    return S.READY


def _locked(photo_id: int) -> ArrivalPhoto:
    return ArrivalPhoto.objects.select_for_update().get(pk=photo_id)


def arrival_photo_give_up(*, photo_id: int) -> None:
    """Record that WeChat stayed unreachable: the resident is asked to send it again."""
    with transaction.atomic():
        photo = ArrivalPhoto.objects.select_for_update().filter(pk=photo_id).first()
        if photo is not None and photo.status == S.RECEIVED:
            _refuse(photo, ArrivalRefusal.UNREACHABLE)


def arrival_photo_by_token(*, token: str) -> ArrivalPhoto | None:
    """Return the arrival photo of the page token ``token`` while its link is valid."""
    if not token_looks_valid(token):
        return None
    since = timezone.now() - datetime.timedelta(hours=settings.WECHAT_ARRIVAL_LINK_HOURS)
    return (
        ArrivalPhoto.objects.select_related(
            "registration", "registration__resident", "registration__station"
        )
        .filter(token_hash=token_hash(token), created_at__gte=since)
        .exclude(status=S.CONFIRMED)
        .first()
    )


def arrival_photo_attempt(*, photo: ArrivalPhoto):
    """Return the form attempt holding ``photo``'s pictures, started if it has none."""
    if photo.attempt_id is not None:
        return photo.attempt
    _raw, attempt = registration_services.attempt_start(station=photo.registration.station)
    ArrivalPhoto.objects.filter(pk=photo.pk).update(attempt=attempt)
    return attempt


def arrival_refusals_untold(*, resident_id: int) -> list[ArrivalPhoto]:
    """
    Return the resident's refused photos they have not yet heard about, and mark them told
    (the caller puts the notice in its reply).
    """
    with transaction.atomic():
        refused = list(
            ArrivalPhoto.objects.select_for_update()
            .filter(registration__resident_id=resident_id, status=S.REFUSED, refusal_told=False)
            .order_by("created_at")
        )
        if refused:
            ArrivalPhoto.objects.filter(pk__in=[p.pk for p in refused]).update(refusal_told=True)
    return refused


def arrival_photo_confirm(
    *, photo: ArrivalPhoto, data: dict, attempt, language: str
) -> registration_services.Submitted:
    """
    Record the return from abroad of ``photo``'s registration with ``data`` (the re-entry
    form) and the entry stamp of ``attempt``; the private link moves to the new
    registration (by its hash), as through the link itself.
    """
    with transaction.atomic():
        locked = _locked(photo.pk)
        if locked.status == S.CONFIRMED:
            raise ValidationError("already confirmed", code="arrival_confirmed")
        submitted = registration_services.registration_reenter(
            registration=locked.registration,
            data=data,
            attempt=attempt,
            language=language,
            token=None,
        )
        locked.status = S.CONFIRMED
        locked.attempt = None
        locked.save(update_fields=["status", "attempt"])
    return submitted


def arrival_photo_max_age() -> datetime.timedelta:
    """
    How long an arrival photo's row is kept: while its link works and its form attempt (the
    photo itself) may live, whichever is longer; then it only says a photo once came.
    """
    hours = max(settings.WECHAT_ARRIVAL_LINK_HOURS, settings.REGISTRATION_ATTEMPT_MAX_AGE_HOURS)
    return datetime.timedelta(hours=hours)


def arrival_photos_old(*, now: datetime.datetime):
    """Return the arrival photos older than ``arrival_photo_max_age`` at ``now``."""
    return ArrivalPhoto.objects.filter(created_at__lt=now - arrival_photo_max_age())


def arrival_photos_delete_old(*, now: datetime.datetime) -> int:
    """
    Delete the arrival photos older than ``arrival_photo_max_age``; return how many. A
    form attempt one still holds goes by the attempts' own rule, with its photo.
    """
    return arrival_photos_old(now=now).delete()[0]


def registration_is_active(registration: Registration) -> bool:
    """Return whether ``registration`` can still take a return from abroad."""
    return registration.status in ACTIVE_STATUSES
