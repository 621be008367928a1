"""
Whatever a visitor types into the help forms, the answer is a page, never a server error,
and nothing is half-saved. ``LINLI_FUZZ_EXAMPLES`` raises the number of cases (``make fuzz``).
"""

import datetime
import os

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.tokens import token_new
from inquiries.models import CheckInAnswer, CheckInInvitation, Inquiry, InquiryEntry
from tests.inquiries.factories import CheckInRoundFactory, RegistrationFactory

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("LINLI_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FIELDS = [
    "category",
    "subject",
    "description",
    "urgency",
    "contact_name",
    "contact_method",
    "phone",
    "email",
    "wechat_id",
    "contact_time",
    "language",
    "website",
    "r",
]
text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "safety", "urgent", "email", "zh-hans", "<script>", "\x00", "x" * 5000]),
)


@FUZZ
@given(data=st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, text)))
def test_help_form_never_fails(client, station, data):
    before = Inquiry.objects.count()
    response = client.post("/s/shipai/help/", data)
    assert response.status_code in (302, 400, 429)
    if response.status_code != 302:
        assert Inquiry.objects.count() == before


@FUZZ
@given(
    token=st.text(max_size=80).filter(lambda t: "/" not in t and "?" not in t and "#" not in t),
    body=text,
)
def test_private_links_never_fail(client, db, token, body):
    for prefix in ("h", "f", "check-in"):
        response = client.post(f"/{prefix}/{token}/", {"body": body})
        assert response.status_code in (404, 400)
    assert not InquiryEntry.objects.exists()


@pytest.fixture
def case_token(submit):
    return submit().token


@FUZZ
@given(body=text)
def test_resident_reply_never_fails_nor_half_saves(client, case_token, body):
    before = InquiryEntry.objects.count()
    response = client.post(f"/h/{case_token}/", {"body": body})
    assert response.status_code in (302, 400, 410, 429)
    if response.status_code != 302:
        assert InquiryEntry.objects.count() == before


@pytest.fixture
def invitation_token(station):
    registration = RegistrationFactory(station=station)
    raw, digest = token_new()
    CheckInInvitation.objects.create(
        round=CheckInRoundFactory(station=station),
        resident=registration.resident,
        token_hash=digest,
        language="en",
        channel="email",
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    return raw


CHECK_IN_FIELDS = ["rating", "troubles", "wants_contact", "contact_method", "website"]


@FUZZ
@given(data=st.fixed_dictionaries({}, optional=dict.fromkeys(CHECK_IN_FIELDS, text)))
def test_check_in_answer_never_fails_nor_half_saves(client, invitation_token, data):
    answers, cases = CheckInAnswer.objects.count(), Inquiry.objects.count()
    response = client.post(f"/check-in/{invitation_token}/", data)
    assert response.status_code in (200, 302, 400, 410, 429)
    if response.status_code not in (200, 302):
        assert (CheckInAnswer.objects.count(), Inquiry.objects.count()) == (answers, cases)
    CheckInAnswer.objects.all().delete()  # the next example answers afresh
    Inquiry.objects.filter(source="check_in").delete()
