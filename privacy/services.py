"""Writes of the privacy app."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models

from privacy.models import AuditEntry


def audit_record(
    *,
    user,
    action: str,
    obj: models.Model | None = None,
    station=None,
    detail: str = "",
) -> AuditEntry:
    """Record that ``user`` did ``action`` (on ``obj`` of ``station``). Never contains secrets."""
    entry = AuditEntry(
        user=user if getattr(user, "pk", None) else None,
        username=getattr(user, "get_username", lambda: "")() or "",
        action=action,
        station=station,
        detail=detail[:500],
    )
    if obj is not None:
        entry.object_type = ContentType.objects.get_for_model(obj)
        entry.object_id = str(obj.pk)
        entry.object_repr = str(obj)[:200]
    entry.save()
    return entry


def audit_prune(*, older_than: datetime.datetime, dry_run: bool = False) -> int:
    """Delete audit entries older than ``older_than`` (the retention rule); return how many."""
    entries = AuditEntry.objects.filter(at__lt=older_than)
    if dry_run:
        return entries.count()
    deleted, _by_model = entries.delete()
    return deleted
