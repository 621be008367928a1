"""
Retention rule of the WeChat app (listed in ``settings.RETENTION_RULES``, run nightly by
``privacy.retention_apply`` and by ``manage.py apply_retention``).

A photo sent in WeChat (``ArrivalPhoto``) holds no personal data — WeChat's message and
media IDs, the hash of its link, a status — but says that a resident sent something, so
it does not outlive its purpose: its row goes once its link is dead and its form attempt
(the photo itself, deleted by ``registration.retention.attempts_expire``) may be gone,
``wechat.arrivals.arrival_photo_max_age``. A confirmed return is the re-entry's own record.
"""

import datetime

from privacy.retention import RetentionOutcome
from wechat.arrivals import arrival_photos_delete_old, arrival_photos_old


def arrival_photos_expire(*, now: datetime.datetime, dry_run: bool) -> RetentionOutcome:
    """Delete the rows of photos sent in WeChat older than their link and form attempt."""
    outcome = RetentionOutcome(rule="wechat.arrival_photos")
    if dry_run:
        outcome.deleted = arrival_photos_old(now=now).count()
        return outcome
    outcome.deleted = arrival_photos_delete_old(now=now)
    return outcome
