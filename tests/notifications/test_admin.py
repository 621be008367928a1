"""The outbox in the admin: scoped by station, filters, preview, retry and cancel."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from notifications.constants import Channel, MessageStatus
from notifications.models import Message
from stations.constants import MembershipRole
from tests.notifications.factories import MessageFactory
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_message_changelist")


@pytest.fixture
def officer(station):
    return StaffUserFactory(
        username="officer", station=station, station__role=MembershipRole.OFFICER
    )


@pytest.fixture
def messages_of_two_stations(station, other_station):
    return {
        "own": MessageFactory(station=station, to="own@example.org"),
        "other": MessageFactory(station=other_station, to="other@example.org"),
        "none": MessageFactory(station=None, to="nostation@example.org"),
    }


def test_officer_sees_only_the_messages_of_their_station(client, officer, messages_of_two_stations):
    client.force_login(officer)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    shown = {m.pk for m in response.context["cl"].result_list}
    assert shown == {messages_of_two_stations["own"].pk}


def test_officer_gets_404_for_another_stations_message(client, officer, messages_of_two_stations):
    client.force_login(officer)
    other = messages_of_two_stations["other"]
    url = reverse("admin:notifications_message_change", args=[other.pk])
    assert client.get(url).status_code == 404


def test_superuser_sees_every_message(client, messages_of_two_stations):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-long-enough")
    client.force_login(admin)
    response = client.get(CHANGELIST)
    assert {m.pk for m in response.context["cl"].result_list} == {
        m.pk for m in messages_of_two_stations.values()
    }


def test_changelist_costs_the_same_queries_for_many_messages(
    client, officer, station, django_assert_max_num_queries
):
    client.force_login(officer)
    MessageFactory.create_batch(3, station=station)
    with django_assert_max_num_queries(20) as few:
        client.get(CHANGELIST)
    MessageFactory.create_batch(30, station=station)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(CHANGELIST)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "failed"}, {"failed"}),
        ({"channel__exact": "sms"}, {"sms"}),
        ({"template": "other/reminder"}, {"reminder"}),
        ({"q": "findme"}, {"search"}),
    ],
)
def test_filters_and_search(client, officer, station, query, expected):
    client.force_login(officer)
    made = {
        "failed": MessageFactory(station=station, status=MessageStatus.FAILED),
        "sms": MessageFactory(station=station, channel=Channel.SMS, to="+8613800138000"),
        "reminder": MessageFactory(station=station, template="other/reminder"),
        "search": MessageFactory(station=station, to="findme@example.org"),
    }
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    shown = {m.pk for m in response.context["cl"].result_list}
    assert shown == {made[name].pk for name in expected}


def test_change_page_previews_the_message_with_private_links_masked(client, officer, station):
    client.force_login(officer)
    message = MessageFactory(
        station=station,
        context={"secret_link": "https://linli.example.org/r/RAW-TOKEN"},
        status=MessageStatus.FAILED,
        last_error="TemporaryDeliveryError: gateway answered 503",
    )
    response = client.get(reverse("admin:notifications_message_change", args=[message.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "This is a test message from Linli." in body
    assert "RAW-TOKEN" not in body
    assert "gateway answered 503" in body


def test_change_page_of_a_message_whose_template_is_gone_still_opens(client, officer, station):
    client.force_login(officer)
    message = MessageFactory(station=station, template="gone/away")
    response = client.get(reverse("admin:notifications_message_change", args=[message.pk]))
    assert response.status_code == 200


def test_failed_messages_show_their_error_in_the_list(client, officer, station):
    client.force_login(officer)
    MessageFactory(station=station, status=MessageStatus.FAILED, last_error="Address refused")
    assert "Address refused" in client.get(CHANGELIST).content.decode()


def test_retry_action_sends_failed_messages_again_and_skips_others(
    client, officer, station, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    failed = MessageFactory(station=station, status=MessageStatus.FAILED)
    sent = MessageFactory(station=station, status=MessageStatus.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST,
            {"action": "retry_messages", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.status == MessageStatus.SENT
    assert len(mail.outbox) == 1
    levels = sorted(m.level_tag for m in response.context["messages"])
    assert levels == ["success", "warning"]


def test_cancel_action_cancels_waiting_messages(client, officer, station):
    client.force_login(officer)
    waiting = MessageFactory(station=station)
    response = client.post(
        CHANGELIST, {"action": "cancel_messages", "_selected_action": [waiting.pk]}
    )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == MessageStatus.CANCELLED


def test_actions_cannot_reach_another_stations_messages(client, officer, messages_of_two_stations):
    client.force_login(officer)
    other = messages_of_two_stations["other"]
    client.post(CHANGELIST, {"action": "cancel_messages", "_selected_action": [other.pk]})
    other.refresh_from_db()
    assert other.status == MessageStatus.CREATED


def test_nobody_adds_or_deletes_messages_by_hand(client, officer, station):
    client.force_login(officer)
    message = MessageFactory(station=station)
    assert client.get(reverse("admin:notifications_message_add")).status_code == 403
    delete = reverse("admin:notifications_message_delete", args=[message.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Message.objects.filter(pk=message.pk).exists()


def test_admin_pages_speak_chinese(client, officer, station):
    client.force_login(officer)
    MessageFactory(station=station, status=MessageStatus.FAILED)
    response = client.get(CHANGELIST, headers={"accept-language": "zh-hans"})
    body = response.content.decode()
    assert "发送失败" in body
    assert "重新发送所选消息" in body


def test_messages_concerning_an_object_are_found(station, other_station):
    from notifications.selectors import messages_concerning
    from notifications.services import message_queue

    about = message_queue(
        template="notifications/test",
        language="en",
        channel=Channel.EMAIL,
        to="a@example.org",
        context={},
        idempotency_key="about-station",
        concerning=station,
    )
    message_queue(
        template="notifications/test",
        language="en",
        channel=Channel.EMAIL,
        to="b@example.org",
        context={},
        idempotency_key="about-other",
        concerning=other_station,
    )
    assert list(messages_concerning(station)) == [about]


def test_failed_count_for_the_dashboard_is_scoped(officer, station, other_station):
    from notifications.selectors import messages_failed_count

    MessageFactory(station=station, status=MessageStatus.FAILED)
    MessageFactory(station=other_station, status=MessageStatus.FAILED)
    assert messages_failed_count(officer) == 1


def test_a_failed_message_can_be_sent_again_from_its_own_page(
    client, officer, station, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    failed = MessageFactory(station=station, status=MessageStatus.FAILED)
    url = reverse("admin:notifications_message_change", args=[failed.pk])
    page = client.get(url).content.decode()
    assert "Send this message again" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"CHANGE_FORM-action": "retry_messages", "_selected_action": [failed.pk]}
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == MessageStatus.SENT


# --- may have been sent, waiting, no longer needed ----------------------------------------


def possibly_sent(station, **overrides):
    values = {
        "station": station,
        "status": MessageStatus.POSSIBLY_SENT,
        "uncertain_attempts": 3,
        "last_error": "3 attempts stopped without a result (worker stopped)",
    }
    values.update(overrides)
    return MessageFactory(**values)


def test_possibly_sent_is_shown_apart_from_failed(client, officer, station):
    client.force_login(officer)
    possibly_sent(station)
    MessageFactory(station=station, status=MessageStatus.FAILED)
    response = client.get(CHANGELIST, {"status__exact": "possibly_sent"})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1
    body = response.content.decode()
    assert "⚠ may have been sent" in body
    chinese = client.get(CHANGELIST, headers={"accept-language": "zh-hans"}).content.decode()
    assert "可能已发送" in chinese


def test_sending_again_a_message_that_may_have_been_sent_asks_first(
    client, officer, station, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    uncertain = possibly_sent(station)
    failed = MessageFactory(station=station, status=MessageStatus.FAILED)
    post = {"action": "retry_messages", "_selected_action": [uncertain.pk, failed.pk]}

    response = client.post(CHANGELIST, post)

    assert response.status_code == 200
    assert "admin/notifications/message/retry_confirmation.html" in [
        t.name for t in response.templates
    ]
    body = response.content.decode()
    assert "may have been sent already" in body
    assert "Yes, send again" in body
    assert mail.outbox == []
    assert set(Message.objects.values_list("status", flat=True)) == {
        MessageStatus.POSSIBLY_SENT,
        MessageStatus.FAILED,
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGELIST, {**post, "confirm": "yes"}, follow=True)
    assert response.status_code == 200
    assert len(mail.outbox) == 2
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert warnings == ["1 of them may have been sent already: its recipient may get it twice."]


def test_sending_again_a_possibly_sent_message_from_its_page_asks_first(
    client, officer, station, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    uncertain = possibly_sent(station)
    url = reverse("admin:notifications_message_change", args=[uncertain.pk])
    post = {"CHANGE_FORM-action": "retry_messages", "_selected_action": [uncertain.pk]}
    response = client.post(url, post, headers={"accept-language": "zh-hans"})
    assert response.status_code == 200
    assert "可能已经发送" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**post, "confirm": "yes"})
    assert response.status_code == 302
    uncertain.refresh_from_db()
    assert uncertain.status == MessageStatus.SENT
    assert len(mail.outbox) == 1


def test_dropped_and_waiting_messages_say_why(client, officer, station):
    client.force_login(officer)
    first = MessageFactory(station=station, thread="t")
    waiting = MessageFactory(station=station, thread="t", held_by=first)
    dropped = MessageFactory(
        station=station, status=MessageStatus.SUPERSEDED, superseded_by=waiting
    )
    body = client.get(CHANGELIST).content.decode()
    assert f"waiting to be sent, after message #{first.pk}" in body
    assert f"no longer needed: replaced by message #{waiting.pk}" in body
    page = client.get(reverse("admin:notifications_message_change", args=[dropped.pk]))
    assert page.status_code == 200
    assert "no longer needed because of" in page.content.decode().lower()
