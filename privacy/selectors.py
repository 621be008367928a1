"""Reads of the privacy app."""

from django.db.models import Q, QuerySet

from privacy.models import AuditEntry
from stations.constants import MembershipRole
from stations.selectors import station_ids_for_user, user_sees_all_stations


def audit_entries_for_user(user) -> QuerySet[AuditEntry]:
    """Return the entries ``user`` may read: managers their stations', city admins all."""
    entries = AuditEntry.objects.select_related("station", "object_type")
    if user_sees_all_stations(user):
        return entries
    station_ids = station_ids_for_user(user, role=MembershipRole.MANAGER)
    if not station_ids:
        return entries.none()
    return entries.filter(Q(station_id__in=station_ids))
