"""A new record gets a fresh reference, even when the first one drawn is taken."""

import itertools

import pytest

from core import references
from core.references import reference_save
from tests.registration.factories import RegistrationFactory

pytestmark = pytest.mark.django_db


def test_a_reference_already_taken_is_drawn_again(monkeypatch):
    taken = RegistrationFactory(reference="SH-2222-2222")
    # The random source first draws the taken body, then another one.
    draws = itertools.chain(["2"] * 8, itertools.repeat("3"))
    monkeypatch.setattr(references.secrets, "choice", lambda _alphabet: next(draws))
    fresh = RegistrationFactory.build(station=taken.station, resident=taken.resident)
    reference_save(fresh, prefix="SH")
    assert fresh.pk is not None
    assert fresh.reference == "SH-3333-3333"


def test_references_use_no_ambiguous_characters():
    body = references.reference_new(prefix="HL").replace("HL-", "").replace("-", "")
    assert len(body) == 8 and not set(body) & set("01ILOU")
