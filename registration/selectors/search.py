"""
Exact search keys: blind indexes of travel-document and visa numbers, references in their
canonical form, and the exact matches staff search the registrations by.
"""

from django.db.models import Q
from phonenumber_field.phonenumber import to_python

from core.crypto import blind_index
from core.references import REFERENCE_ALPHABET

DOCUMENT_NUMBER_PURPOSE = "document_number"
VISA_NUMBER_PURPOSE = "visa_number"


def document_number_index(number: str) -> str:
    """Return the blind index of a travel-document number."""
    return blind_index(number, purpose=DOCUMENT_NUMBER_PURPOSE)


def visa_number_index(number: str) -> str:
    """Return the blind index of a visa or permit number."""
    return blind_index(number, purpose=VISA_NUMBER_PURPOSE)


def reference_normalise(value: str) -> str:
    """Return ``value`` in the canonical ``XX-XXXX-XXXX`` form, tolerant of case and spaces."""
    cleaned = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    if len(cleaned) < 10:
        return cleaned
    prefix, body = cleaned[:-8], cleaned[-8:]
    return f"{prefix}-{body[:4]}-{body[4:]}"


def reference_looks_valid(value: str) -> bool:
    ref = reference_normalise(value)
    parts = ref.split("-")
    return (
        len(parts) == 3
        and parts[0].isalpha()
        and all(ch in REFERENCE_ALPHABET for ch in parts[1] + parts[2])
    )


def registrations_search_exact(*, term: str) -> tuple[Q, bool]:
    """
    Return the filter of registrations matching ``term`` exactly, beyond the admin's
    ``search_fields`` (reference, travel-document or visa number, phone), and whether
    ``term`` looked like any of them.
    """
    term = term.strip()
    query = Q(pk__in=[])
    matched = False
    if reference_looks_valid(term):
        query |= Q(reference=reference_normalise(term))
        matched = True
    index = document_number_index(term)
    if index:
        query |= Q(resident__document_number_index=index) | Q(
            visa_number_index=visa_number_index(term)
        )
        matched = True
    number = to_python(term, region="CN")
    if number is not None and getattr(number, "is_valid", lambda: False)():
        query |= Q(resident__phone=number.as_e164) | Q(host_phone=number.as_e164)
        matched = True
    return query, matched
