"""
Residents: how to reach one, and which records are one person (docs/identity.md).
"""

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce

from core.extensions import extensions
from notifications.constants import Channel
from registration.constants import ACTIVE_STATUSES
from registration.models import Registration, Resident
from registration.selectors.registrations import registrations_for_user
from registration.selectors.search import document_number_index


def resident_routes(
    resident: Resident, *, sms: bool | None = None, wechat: bool = True
) -> list[tuple[str, str]]:
    """
    Return how to reach ``resident``, as ``(channel, address)`` pairs. The one rule of "how
    to reach a resident", for every message:

    - a resident who linked WeChat (and WeChat is configured) is reached there only — the
      routes of ``RESIDENT_ROUTE_EXTENSIONS``, ``wechat.channel.wechat_resident_route``;
      if WeChat refuses a message, it goes by the first route of this rule without them
      (``wechat=False``: what ``wechat_fallback_route`` asks);
    - otherwise email whenever there is an address, and SMS too when the resident prefers
      SMS or has no email (``sms`` forces it on or off).
    """
    if wechat:
        for route, _ in extensions("RESIDENT_ROUTE_EXTENSIONS"):
            if found := route(resident):
                return [found]
    email = resident.email or ""
    phone = str(resident.phone or "")
    want_sms = sms if sms is not None else (resident.preferred_channel == Channel.SMS or not email)
    routes = []
    if email:
        routes.append((Channel.EMAIL, email))
    if want_sms and phone:
        routes.append((Channel.SMS, phone))
    return routes


def resident_routes_sql(resident: str, params: dict) -> str:
    """
    ``resident_routes`` for a set query (PostgreSQL): a subquery yielding one ``(channel,
    address)`` row per route of the resident whose row the caller's query names
    ``resident``, to join as ``CROSS JOIN LATERAL (<this>) AS route(channel, address)``.
    The same rule — WeChat alone when ``wechat.channel.wechat_route_sql`` (the second of
    each pair in ``RESIDENT_ROUTE_EXTENSIONS``) says so, else email when there is an
    address and SMS when preferred or no email —
    ``tests/registration/test_reminder_sets.py`` compares it with ``resident_routes``.
    Values go into ``params`` (named); the SQL holds model metadata only.
    """
    column = {
        name: f"{resident}.{connection.ops.quote_name(Resident._meta.get_field(name).column)}"
        for name in ("id", "email", "phone", "preferred_channel")
    }
    params["route_email"], params["route_sms"] = Channel.EMAIL, Channel.SMS
    has_email = f"coalesce({column['email']}, '') <> ''"
    wants_sms = (
        f"coalesce({column['phone']}, '') <> '' "
        f"AND ({column['preferred_channel']} = %(route_sms)s OR NOT {has_email})"
    )
    # Each plugged-in route taken (``linked``) stands alone; the first one taken wins.
    plugged = [
        found
        for _, route_sql in extensions("RESIDENT_ROUTE_EXTENSIONS")
        if (found := route_sql(column["id"], params))
    ] or [("false", None, None)]
    taken, rows = [], []
    for index, (_, channel, to) in enumerate(plugged):
        if channel is not None:
            rows.append(f"({channel}, {to}, {' AND '.join([f'w.linked{index}', *taken])})")
        taken.append(f"NOT w.linked{index}")
    rows += [
        f"(%(route_email)s, {column['email']}, {' AND '.join(taken)} AND {has_email})",
        f"(%(route_sms)s, {column['phone']}, {' AND '.join(taken)} AND {wants_sms})",
    ]
    linked = ", ".join(f"{found[0]} AS linked{index}" for index, found in enumerate(plugged))
    return (
        "SELECT ch.channel, ch.address "  # noqa: S608 (model metadata; values are parameters)
        f"FROM (SELECT {linked}) AS w "
        f"CROSS JOIN LATERAL (VALUES {', '.join(rows)}) AS ch(channel, address, wanted) "
        "WHERE ch.wanted"
    )


def resident_route(resident: Resident, *, wechat: bool = True) -> tuple[str, str] | None:
    """
    Return the one way to reach ``resident``: WeChat if linked, else their preferred channel
    if it can be used. ``wechat=False``: the email or phone a person would use.
    """
    routes = resident_routes(resident, wechat=wechat)
    preferred = [route for route in routes if route[0] == resident.preferred_channel]
    return (preferred or routes or [None])[0]


def resident_get(*, pk: int) -> Resident | None:
    """Return the resident with primary key ``pk``, or ``None``."""
    return Resident.objects.filter(pk=pk).first()


def resident_find(*, nationality: str, document_number: str) -> Resident | None:
    """
    Return a resident with this travel-document number and nationality, if any (the first;
    several records may carry one number, see ``resident_match_suggestions``).
    """
    index = document_number_index(document_number)
    if not index:
        return None
    return Resident.objects.filter(nationality=nationality, document_number_index=index).first()


def resident_same_person_ids(*, resident: Resident) -> list[int]:
    """
    Return the ids of the records staff confirmed to be the same person as ``resident``
    (``resident`` included). The registrations a private link leads to share one resident.
    """
    person_id = resident.person_id
    return list(
        Resident.objects.filter(Q(pk=person_id) | Q(same_person_as_id=person_id)).values_list(
            "pk", flat=True
        )
    )


def resident_station_ids(*, resident: Resident) -> set[int]:
    """Return the stations holding a registration of ``resident``, anonymised or not."""
    return set(
        Registration.objects.filter(resident=resident)
        .order_by()
        .values_list("station_id", flat=True)
        .distinct()
    )


def registration_other_stays(*, registration: Registration, user) -> QuerySet[Registration]:
    """
    Return the other registrations of the person of ``registration`` that ``user`` may see:
    its own resident's (the private-link chain) and those of records staff confirmed as the
    same person — never of a record that only shares the document number.
    """
    return (
        registrations_for_user(user)
        .filter(resident_id__in=resident_same_person_ids(resident=registration.resident))
        .exclude(pk=registration.pk)
        .select_related("station")
        .order_by("-arrival_at", "-pk")
    )


def resident_match_suggestions(
    *, registration: Registration, user, limit: int = 10
) -> list[Resident]:
    """
    Return the records that may be the same person as the resident of ``registration``:
    same nationality and travel-document number, not anonymised, not yet confirmed, and with
    a registration ``user`` may see. Each carries ``visible_registrations``, only those of
    the user's stations: another station's records stay behind its wall.

    A suggestion proves nothing (anyone may type a passport number): staff confirm it
    (``services.resident_match_confirm``) before it links anything.
    """
    resident = registration.resident
    if not resident.document_number_index or resident.anonymised_at is not None:
        return []
    visible = registrations_for_user(user)
    return list(
        Resident.objects.filter(
            nationality=resident.nationality,
            document_number_index=resident.document_number_index,
            anonymised_at__isnull=True,
            registrations__in=visible,
        )
        .exclude(pk__in=resident_same_person_ids(resident=resident))
        .distinct()
        .order_by("pk")
        .prefetch_related(
            Prefetch(
                "registrations",
                queryset=visible.select_related("station").order_by("-arrival_at", "-pk"),
                to_attr="visible_registrations",
            )
        )[:limit]
    )


def residents_for_check_in(*, station) -> QuerySet[Resident]:
    """
    Return the residents with an active registration at ``station`` who agreed to be
    contacted, each person once: of records staff confirmed as one person, the newest (its
    contact details are the latest). Records that only share a document number are not
    merged: that would let a stranger's form decide who is asked.
    """
    eligible = Resident.objects.filter(
        contact_consent=True,
        registrations__station=station,
        registrations__status__in=ACTIVE_STATUSES,
    ).annotate(person=Coalesce("same_person_as_id", "pk"))
    newer_record = eligible.filter(person=OuterRef("person"), pk__gt=OuterRef("pk"))
    return eligible.exclude(Exists(newer_record)).distinct()
