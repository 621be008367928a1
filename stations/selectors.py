"""Reads of the stations app. ``stations_for_user`` is the one rule of who sees what."""

from django.db.models import QuerySet

from stations.constants import MembershipRole
from stations.models import Station

# City administrators (and superusers) see every station.
SEE_ALL_STATIONS_PERMISSION = "stations.view_all_stations"


def user_sees_all_stations(user) -> bool:
    """Return whether ``user`` may see every station (superuser or city administrator)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.has_perm(SEE_ALL_STATIONS_PERMISSION)


def stations_for_user(user, *, role: str | None = None) -> QuerySet[Station]:
    """
    Return the stations ``user`` may see (or, with ``role="manager"``, manage).

    Every admin screen of every app scopes its objects with this one selector.
    """
    if user_sees_all_stations(user):
        return Station.objects.all()
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return Station.objects.none()
    memberships = {"memberships__user": user}
    if role is not None:
        memberships["memberships__role"] = role
    return Station.objects.filter(**memberships).distinct()


def station_ids_for_user(user, *, role: str | None = None) -> list[int]:
    """Return the primary keys of ``stations_for_user`` as a list (for ``__in`` filters)."""
    return list(stations_for_user(user, role=role).values_list("pk", flat=True))


def user_is_member(user, station: Station, *, role: str | None = None) -> bool:
    """Return whether ``user`` may see (or, with a role, act in that role at) ``station``."""
    if user_sees_all_stations(user):
        return True
    return stations_for_user(user, role=role).filter(pk=station.pk).exists()


def user_manages(user, station: Station) -> bool:
    """Return whether ``user`` is a manager of ``station`` (or sees all stations)."""
    return user_is_member(user, station, role=MembershipRole.MANAGER)


def active_stations() -> QuerySet[Station]:
    """Return the active stations with their texts, for the home page."""
    return Station.objects.active().with_texts()


def station_get_by_code(code: str) -> Station | None:
    """Return the station with this code, matched case-insensitively, or ``None``."""
    return Station.objects.with_texts().filter(code__iexact=code.strip()).first()
