"""Reads of the staff workspace: whose sign-in a user may manage, and its state."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Now
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from stations.constants import MembershipRole
from stations.models import Station, StationMembership
from stations.selectors import (
    SEE_ALL_STATIONS_PERMISSION,
    station_ids_for_user,
    user_sees_all_stations,
)
from workspace.models import EnrolmentCode, StaffMember


def user_manages_signin(user) -> bool:
    """Return whether ``user`` may issue enrolment codes and reset devices at all."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user_sees_all_stations(user) or bool(
        station_ids_for_user(user, role=MembershipRole.MANAGER)
    )


def _sees_all_stations_ids() -> QuerySet:
    # Superusers, and city administrators through their group or their own permissions.
    return (
        get_user_model()
        .objects.with_perm(
            SEE_ALL_STATIONS_PERMISSION,
            is_active=None,
            backend="django.contrib.auth.backends.ModelBackend",
        )
        .values("pk")
    )


def staff_signin_for_user(user) -> QuerySet[StaffMember]:
    """
    Return the staff members whose sign-in ``user`` may reset: the one rule of who may.

    A superuser reaches every other staff account; a city administrator every other one but
    superusers; a station manager the staff of the stations they manage, but no superuser
    and no city administrator. Nobody reaches their own account, so that one stolen session
    cannot enrol a device of its own.
    """
    if not user_manages_signin(user):
        return StaffMember.objects.none()
    staff = StaffMember.objects.filter(is_staff=True).exclude(pk=user.pk)
    if user.is_superuser:
        return staff
    staff = staff.filter(is_superuser=False)
    if user_sees_all_stations(user):
        return staff
    members = StationMembership.objects.filter(
        station_id__in=station_ids_for_user(user, role=MembershipRole.MANAGER)
    ).values("user_id")
    return staff.filter(pk__in=members).exclude(pk__in=_sees_all_stations_ids())


def user_may_manage_signin_of(user, staff_member) -> bool:
    """Return whether ``user`` may issue a code for, or reset, ``staff_member``."""
    return staff_signin_for_user(user).filter(pk=staff_member.pk).exists()


def staff_signin_with_state(queryset: QuerySet[StaffMember]) -> QuerySet[StaffMember]:
    """
    Annotate staff members with their sign-in state, in the same query at any size:
    ``has_authenticator``, ``recovery_codes_left`` and ``enrolment_code_until``.
    """
    recovery_codes = (
        StaticToken.objects.filter(device__user=OuterRef("pk"), device__confirmed=True)
        .values("device__user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    open_code = (
        EnrolmentCode.objects.filter(
            user=OuterRef("pk"), used_at__isnull=True, expires_at__gt=Now()
        )
        .order_by("-expires_at")
        .values("expires_at")[:1]
    )
    return queryset.annotate(
        has_authenticator=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        recovery_codes_left=Coalesce(
            Subquery(recovery_codes, output_field=IntegerField()), Value(0)
        ),
        enrolment_code_until=Subquery(open_code),
    )


def user_has_authenticator(user) -> bool:
    """Return whether ``user`` has a confirmed authenticator app."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    """Return how many unused recovery codes ``user`` has."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def stations_of_staff_member(*, staff_member) -> QuerySet[Station]:
    """Return the stations where ``staff_member`` works."""
    return Station.objects.filter(memberships__user=staff_member).distinct()
