"""Whatever a visitor types into the help forms, the answer is a page, never a server error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inquiries.models import Inquiry, InquiryEntry

pytestmark = pytest.mark.django_db

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


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, text)))
def test_help_form_never_fails(client, station, data):
    before = Inquiry.objects.count()
    response = client.post("/s/shipai/help/", data)
    assert response.status_code in (302, 400, 429)
    if response.status_code != 302:
        assert Inquiry.objects.count() == before


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    token=st.text(max_size=80).filter(lambda t: "/" not in t and "?" not in t and "#" not in t),
    body=text,
)
def test_private_links_never_fail(client, db, token, body):
    for prefix in ("h", "f", "check-in"):
        response = client.post(f"/{prefix}/{token}/", {"body": body})
        assert response.status_code in (404, 400)
    assert not InquiryEntry.objects.exists()
