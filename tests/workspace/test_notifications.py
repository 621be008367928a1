"""Staff without an email address read their alerts in the workspace and mark them read."""

import pytest
from django.urls import reverse
from django.utils import timezone

from inquiries.reminders import inquiries_unassigned
from inquiries.services import inquiry_submit
from notifications.models import Message
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def _case(station):
    return inquiry_submit(
        station=station,
        category="housing",
        subject="Landlord keeps my deposit",
        description="Please help.",
        urgency="normal",
        contact_name="Amina",
        contact_method="email",
        contact_time="any",
        language="en",
        email="amina@example.org",
    ).inquiry


def test_an_officer_without_email_sees_the_alert_on_the_dashboard_and_marks_it_read(
    client, station, django_capture_on_commit_callbacks
):
    officer = StaffUserFactory(username="desk", station=station, email="")
    case = _case(station)
    with django_capture_on_commit_callbacks(execute=True):
        inquiries_unassigned(today=timezone.localdate(), dry_run=False)
    message = Message.objects.get(channel="admin")
    client.force_login(officer)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert "我的通知" in page.text or "My notifications" in page.text
    assert case.reference in page.text
    assert 'class="linli-unread"' in page.text
    read = client.post(reverse("admin:notification_read", args=[message.pk]))
    assert read.status_code == 302
    message.refresh_from_db()
    assert message.read_at is not None
    page = client.get(reverse("admin:index"))
    assert case.reference in page.text and 'class="linli-unread"' not in page.text


def test_marking_another_officers_notification_read_leaves_it_alone(client, station):
    owner = StaffUserFactory(username="desk", station=station, email="")
    snoop = StaffUserFactory(username="snoop", station=station, email="")
    _case(station)
    inquiries_unassigned(today=timezone.localdate(), dry_run=False)
    message = Message.objects.get(channel="admin", to=str(owner.pk))
    client.force_login(snoop)
    assert client.get(reverse("admin:notification_read", args=[message.pk])).status_code == 405
    assert client.post(reverse("admin:notification_read", args=[message.pk])).status_code == 302
    message.refresh_from_db()
    assert message.read_at is None
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    own = Message.objects.get(channel="admin", to=str(snoop.pk))
    assert [n["pk"] for n in page.context["dashboard"]["notifications"]] == [own.pk]
