"""
Hypothesis-generated input to every public registration form: never a 5xx, never a
half-saved record. ``LINLI_FUZZ_EXAMPLES`` raises the number of cases (``make fuzz``).
"""

import os

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registration.models import Registration, Resident
from tests.registration.factories import form_data, registration_with_token

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("LINLI_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "9999-99-99",
            "2024-02-30",
            "1900-01-01T25:61",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "\x00",
            "𝕏" * 40,
            "A" * 5000,
            "+8613800138000",
            "E12345678",
            "on",
        ]
    ),
)
FIELDS = list(form_data().keys()) + ["step", "visa_type", "document_type", "nationality"]


@pytest.fixture(autouse=True)
def _limits_out_of_the_way(settings):
    """Thousands of examples come from one address; the limits have tests of their own."""
    settings.RATE_LIMITS = {
        name: {**limit, "limit": 10**12} for name, limit in settings.RATE_LIMITS.items()
    }


@FUZZ
@given(overrides=st.dictionaries(st.sampled_from(FIELDS), hostile_text, max_size=8))
def test_registration_form_never_fails_nor_half_saves(station, overrides):
    client = Client()
    data = {**form_data(), **overrides}
    data["step"] = overrides.get("step", "submit")
    response = client.post(f"/s/{station.code}/register/", data)
    assert response.status_code < 500
    # Without photos no submission can be complete: nothing may have been saved.
    assert not Registration.objects.exists() and not Resident.objects.exists()


@FUZZ
@given(reference=hostile_text, number=hostile_text, website=hostile_text)
def test_lost_link_form_never_fails(db, reference, number, website):
    response = Client().post(
        "/registration/lost-link/",
        {"reference": reference, "document_number": number, "website": website},
    )
    assert response.status_code in (200, 302, 400, 429)


@FUZZ
@given(
    which=st.sampled_from(["contact", "left", "visa", "document", "move", "delete"]),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "phone",
                "email",
                "preferred_language",
                "preferred_channel",
                "departed_on",
                "visa_type",
                "visa_number",
                "visa_valid_until",
                "document_type",
                "document_number",
                "document_expiry",
                "arrival_at",
                "address",
                "consent",
                "website",
            ]
        ),
        hostile_text,
        max_size=6,
    ),
)
def test_private_link_forms_never_fail(station, which, fields):
    registration, token = registration_with_token(station=station)
    response = Client().post(f"/registration/r/{token}/{which}/", fields)
    assert response.status_code < 500
    registration.refresh_from_db()
    assert Registration.objects.filter(resident=registration.resident).count() <= 2
