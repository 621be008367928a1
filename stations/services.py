"""Writes of the stations app (page visits are counted in stations.visits)."""

from django.contrib.auth.models import Group
from django.db import transaction

from stations.constants import GROUP_MANAGER, GROUP_OFFICER, MembershipRole
from stations.models import Station, StationMembership, StationText

ROLE_GROUPS = {MembershipRole.OFFICER: GROUP_OFFICER, MembershipRole.MANAGER: GROUP_MANAGER}


@transaction.atomic
def station_create_or_update(*, code: str, texts: dict[str, dict], **fields) -> Station:
    """Create the station ``code`` or update its fields; ``texts`` maps language → texts."""
    station, _created = Station.objects.update_or_create(code=code, defaults=fields)
    for language, values in texts.items():
        StationText.objects.update_or_create(station=station, language=language, defaults=values)
    return station


@transaction.atomic
def station_membership_set(*, user, station: Station, role: str) -> StationMembership:
    """Make ``user`` a member of ``station`` in ``role``, with staff status and its group."""
    membership, _created = StationMembership.objects.update_or_create(
        user=user, station=station, defaults={"role": role}
    )
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    group = Group.objects.filter(name=ROLE_GROUPS[MembershipRole(role)]).first()
    if group is not None:
        user.groups.add(group)
    return membership


@transaction.atomic
def station_membership_remove(*, membership: StationMembership) -> None:
    """End ``user``'s work at a station (the user keeps the account and other memberships)."""
    membership.delete()
