"""Writes of the privacy app."""

import datetime
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from privacy.models import AuditEntry


def audit_record(
    *,
    user,
    action: str,
    obj: models.Model | None = None,
    station=None,
    stations: Iterable = (),
    detail: str = "",
) -> AuditEntry:
    """
    Record that ``user`` did ``action`` (on ``obj`` of ``station``). Never contains secrets.

    A look or an erasure that concerns several stations' data (a resident known to two
    stations, an export across stations) names them all in ``stations``: one entry is
    written per station, so that each station's managers read it in their own audit
    trail. Return the first entry written (``station``'s when given).
    """
    station_list = []
    for item in (station, *stations):
        if item is not None and all(item.pk != known.pk for known in station_list):
            station_list.append(item)
    base = {
        "user": user if getattr(user, "pk", None) else None,
        "username": getattr(user, "get_username", lambda: "")() or "",
        "action": action,
        "detail": detail[:500],
    }
    if obj is not None:
        base["object_type"] = ContentType.objects.get_for_model(obj)
        base["object_id"] = str(obj.pk)
        base["object_repr"] = str(obj)[:200]
    entries = [AuditEntry(station=item, **base) for item in station_list or [None]]
    for entry in entries:
        entry.save()
    return entries[0]


def audit_prune(*, older_than: datetime.datetime, dry_run: bool = False) -> int:
    """Delete audit entries older than ``older_than`` (the retention rule); return how many."""
    entries = AuditEntry.objects.filter(at__lt=older_than)
    if dry_run:
        return entries.count()
    deleted, _by_model = entries.delete()
    return deleted
