"""Celery tasks of the wechat app: thin, idempotent wrappers around its services."""

import logging

from celery import shared_task
from django.conf import settings

from wechat import arrivals
from wechat.client import WeChatUnreachable

logger = logging.getLogger(__name__)

# WeChat keeps a media file for 3 days: retries (1 min, doubling to 1 h) stay well within.
FETCH_RETRY_FIRST = 60
FETCH_RETRY_MAX = 3600


@shared_task(
    bind=True,
    name="wechat.arrival_photo_fetch",
    acks_late=True,
    soft_time_limit=90,
    time_limit=120,
)
def arrival_photo_fetch(self, photo_id: int) -> str:
    """
    Download the photo a bound resident sent and keep it as an entry stamp; running it
    twice keeps it once. WeChat unreachable: tried again with backoff, then given up on
    (the resident is asked to send it again in their next reply).
    """
    try:
        return arrivals.arrival_photo_fetch(photo_id=photo_id)
    except WeChatUnreachable as error:
        tries = self.request.retries
        if tries >= settings.WECHAT_FETCH_MAX_RETRIES:
            logger.error(
                "WeChat arrival photo %s: WeChat unreachable after %s tries (%s); given up.",
                photo_id,
                tries + 1,
                error.message,
            )
            arrivals.arrival_photo_give_up(photo_id=photo_id)
            return "refused"
        countdown = min(FETCH_RETRY_FIRST * 2**tries, FETCH_RETRY_MAX)
        logger.warning(
            "WeChat arrival photo %s: WeChat unreachable (%s); try %s again in %s s.",
            photo_id,
            error.message,
            tries + 2,
            countdown,
        )
        raise self.retry(countdown=countdown, max_retries=None) from None


@shared_task(name="wechat.arrival_photos_sweep")
def arrival_photos_sweep_task() -> int:
    """Queue again the downloads of photos never published (broker away; beat)."""
    return arrivals.arrival_photos_sweep()
