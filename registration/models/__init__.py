"""
Residents, their residence registrations, the documents photographed for them, and every
update made to them.

A **resident** is the person (identity, travel document, contact, language). A
**registration** is one stay at one address under one visa or permit, at one station; a new
address is a new registration in law. Every change of either is kept as history
(django-simple-history: who, when, what) and, for the resident's timeline, as an
**amendment**. Travel-document and visa numbers are encrypted at rest and searched through
a keyed hash (blind index); document photos are stored encrypted under random names.

Models by concept: ``resident``, ``registration``, ``documents`` (photos), ``amendments``
(the timeline) and ``attempts`` (forms being filled in).
"""

from registration.models.amendments import Amendment
from registration.models.attempts import SubmissionAttempt
from registration.models.documents import Document
from registration.models.registration import Registration, RegistrationQuerySet
from registration.models.resident import Resident

__all__ = [
    "Amendment",
    "Document",
    "Registration",
    "RegistrationQuerySet",
    "Resident",
    "SubmissionAttempt",
]
