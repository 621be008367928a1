"""Registrations as the resident and staff reach them: by private link, reference, station."""

from django.db.models import Prefetch, QuerySet

from core.tokens import token_hash, token_looks_valid
from registration.constants import ACTIVE_STATUSES
from registration.models import Amendment, Document, Registration
from registration.selectors.search import reference_looks_valid, reference_normalise
from stations.selectors import stations_for_user, user_sees_all_stations


def registration_get_by_token(*, token: str) -> Registration | None:
    """Return the registration of the private link ``token`` (with resident and station)."""
    if not token_looks_valid(token):
        return None
    return (
        Registration.objects.select_related("resident", "station")
        .prefetch_related("station__texts")
        .filter(token_hash=token_hash(token))
        .first()
    )


def registration_active_of_resident(*, resident_id: int) -> Registration | None:
    """
    Return the resident's newest active registration (with station), or ``None``: the one
    a bound WeChat acts on, as the private link would (the link follows the newest stay).
    """
    return (
        Registration.objects.select_related("resident", "station")
        .filter(resident_id=resident_id, status__in=ACTIVE_STATUSES)
        .order_by("-submitted_at", "-pk")
        .first()
    )


def registration_get_by_reference(*, reference: str) -> Registration | None:
    """Return the registration with this reference (any case, spacing), or ``None``."""
    if not reference_looks_valid(reference):
        return None
    return (
        Registration.objects.select_related("resident", "station")
        .filter(reference=reference_normalise(reference))
        .first()
    )


def registration_for_receipt(*, pk: int) -> Registration | None:
    """Return one registration with everything its receipt shows, in a fixed few queries."""
    return (
        Registration.objects.select_related("resident", "station")
        .prefetch_related(
            "station__texts",
            Prefetch("documents", queryset=Document.objects.order_by("kind", "uploaded_at")),
        )
        .filter(pk=pk)
        .first()
    )


def registration_timeline(*, registration: Registration) -> QuerySet[Amendment]:
    """Return the updates of ``registration`` and of the registrations it follows."""
    ids = [registration.pk]
    previous_id = registration.previous_id
    seen = 0
    while previous_id and seen < 20:
        ids.append(previous_id)
        previous_id = (
            Registration.objects.filter(pk=previous_id)
            .values_list("previous_id", flat=True)
            .first()
        )
        seen += 1
    return (
        Amendment.objects.filter(registration_id__in=ids)
        .select_related("registration")
        .order_by("-created_at", "-pk")
    )


def registrations_for_user(user) -> QuerySet[Registration]:
    """Return the registrations of the stations ``user`` may see (staff scoping)."""
    qs = Registration.objects.all()
    if user_sees_all_stations(user):
        return qs
    return qs.filter(station__in=stations_for_user(user))


def documents_carried(*, registration: Registration) -> set:
    """
    Return the public IDs of ``registration``'s photos carried over from the registration
    it follows (the same encrypted file), for staff to see what the resident did not send.
    """
    if registration.previous_id is None:
        return set()
    earlier = Document.objects.filter(registration_id=registration.previous_id).values("file")
    return set(registration.documents.filter(file__in=earlier).values_list("public_id", flat=True))


def documents_current(*, registration: Registration) -> dict[str, Document]:
    """Return the latest document of each kind of ``registration``."""
    latest: dict[str, Document] = {}
    for document in registration.documents.all():
        latest[document.kind] = document  # ordered by upload: the last one wins
    return latest
