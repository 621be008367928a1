"""
The WeChat channel of the outbox against the fake WeChat (real HTTP, WeChat's errcodes):
a linked resident's messages go to WeChat; each refusal falls back to email or SMS, with the
reason for staff; an outage is retried then falls back; nothing lost, nothing doubled,
order kept, the openid nowhere in the outbox, the logs or the admin.
"""

import datetime
import json
import logging

import pytest
import time_machine
from django.core import mail
from django.utils import timezone, translation

from notifications import sms
from notifications.constants import Channel, MessageStatus, refusal_explain
from notifications.models import Message
from notifications.services import message_send
from registration.selectors import resident_routes
from registration.services.notify import private_link_url, resident_notify
from tests.registration.factories import registration_with_token
from wechat.services import binding_create

OPENID = "oWxTest_Openid-0123456789AbCd"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_outboxes():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def linked(fake_wechat):
    """A registration whose resident (email and phone on file) linked WeChat and follows."""
    registration, token = registration_with_token()
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    fake_wechat.follow(OPENID)
    return registration, token


def notify(registration, token, template="confirmation", key=None, capture=None):
    with capture(execute=True):
        return resident_notify(
            registration=registration,
            template=template,
            key=key or f"test:{template}:{registration.pk}",
            token=token,
        )


def outbox_rows():
    return list(Message.objects.order_by("pk"))


def test_linked_resident_gets_a_template_message_with_a_link_to_their_page(
    linked, fake_wechat, django_capture_on_commit_callbacks
):
    registration, token = linked
    assert notify(registration, token, capture=django_capture_on_commit_callbacks) == 1
    [message] = outbox_rows()
    assert message.channel == Channel.WECHAT
    assert message.status == MessageStatus.SENT
    assert message.to == f"resident:{registration.resident.pk}"
    assert message.reference.startswith("wechat:")
    assert mail.outbox == [] and sms.outbox == []
    [sent] = fake_wechat.sends
    assert sent["touser"] == OPENID
    assert sent["template_id"] == "TEMPLATE-DEFAULT"
    assert sent["url"] == private_link_url(token)
    assert registration.reference in sent["data"]["keyword2"]["value"]
    assert sent["client_msg_id"]
    # The openid is nowhere in the outbox row.
    row = Message.objects.filter(pk=message.pk).values().get()
    assert OPENID not in json.dumps(row, default=str)


def test_template_per_kind(linked, fake_wechat, settings, django_capture_on_commit_callbacks):
    settings.WECHAT_TEMPLATES = {"receipt": "TPL-RECEIPT", "decision": "TPL-DECISION"}
    registration, token = linked
    notify(registration, token, "confirmation", capture=django_capture_on_commit_callbacks)
    notify(registration, token, "registered", capture=django_capture_on_commit_callbacks)
    assert [s["template_id"] for s in fake_wechat.sends] == ["TPL-RECEIPT", "TPL-DECISION"]


def test_classic_template_gets_first_keyword1_keyword2_remark(
    linked, fake_wechat, django_capture_on_commit_callbacks
):
    registration, token = linked
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    [sent] = fake_wechat.sends
    assert set(sent["data"]) == {"first", "keyword1", "keyword2", "remark"}
    assert sent["data"]["keyword1"]["value"] == registration.station.name
    assert sent["data"]["keyword2"]["value"] == registration.reference


def test_newer_template_gets_its_own_field_names(
    linked, fake_wechat, settings, django_capture_on_commit_callbacks
):
    """A category template (2023 on): fields by type and number, no first and remark."""
    settings.WECHAT_TEMPLATES = {
        "default": "TPL-CLASSIC",
        "receipt": {
            "id": "TPL-NEW",
            "fields": {
                "thing1": "title",
                "thing2": "station",
                "character_string3": "reference",
                "time4": "time",
            },
        },
    }
    registration, token = linked
    with time_machine.travel(datetime.datetime(2026, 11, 30, 6, 5, tzinfo=datetime.UTC)):
        notify(registration, token, "confirmation", capture=django_capture_on_commit_callbacks)
    notify(registration, token, "registered", capture=django_capture_on_commit_callbacks)
    new, classic = fake_wechat.sends
    assert new["template_id"] == "TPL-NEW"
    assert set(new["data"]) == {"thing1", "thing2", "character_string3", "time4"}
    assert new["data"]["thing2"]["value"] == registration.station.name
    assert new["data"]["character_string3"]["value"] == registration.reference
    assert new["data"]["time4"]["value"] == "2026-11-30 14:05"  # the station's time (UTC+8)
    assert new["data"]["thing1"]["value"]
    assert new["url"] == private_link_url(token)
    assert classic["template_id"] == "TPL-CLASSIC"
    assert set(classic["data"]) == {"first", "keyword1", "keyword2", "remark"}


def test_an_unusable_template_entry_goes_by_email_not_by_another_kinds_template(
    linked, fake_wechat, settings, django_capture_on_commit_callbacks
):
    settings.WECHAT_TEMPLATES = {"default": "TPL", "receipt": {"id": "TPL", "fields": {}}}
    registration, token = linked
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    assert fake_wechat.sends == []
    wechat, email = outbox_rows()
    assert wechat.channel == Channel.WECHAT and "wechat_no_template" in wechat.last_error
    assert email.channel == Channel.EMAIL and email.status == MessageStatus.SENT


def test_wechat_off_linli_works_as_today(settings, django_capture_on_commit_callbacks):
    """A link made while WeChat was configured changes nothing once it is not."""
    registration, token = registration_with_token()
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    assert settings.WECHAT_APP_ID == ""
    assert resident_routes(registration.resident) == [(Channel.EMAIL, registration.resident.email)]
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    [message] = outbox_rows()
    assert (message.channel, message.status) == (Channel.EMAIL, MessageStatus.SENT)
    assert len(mail.outbox) == 1


def test_unlinked_resident_is_not_sent_wechat(fake_wechat, django_capture_on_commit_callbacks):
    registration, token = registration_with_token()
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    assert [m.channel for m in outbox_rows()] == [Channel.EMAIL]
    assert fake_wechat.sends == [] and fake_wechat.token_requests == 0


REFUSALS = {
    "not following (43004)": (lambda f: f.unsubscribed.add(OPENID), "wechat_not_following"),
    "blocked / unknown openid (40003)": (
        lambda f: f.followers.discard(OPENID),
        "wechat_unknown_user",
    ),
    "daily quota (45009)": (lambda f: setattr(f, "quota_exhausted", True), "wechat_quota"),
    "token refused after the refresh (42001)": (
        lambda f: f.fail_next("/cgi-bin/message/template/send", 42001, times=2),
        "wechat_token",
    ),
    "template refused (40037)": (lambda f: setattr(f, "templates", set()), "wechat_refused"),
}


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusal_falls_back_to_email_at_once(
    linked, fake_wechat, refusal, django_capture_on_commit_callbacks
):
    break_wechat, code = refusal
    registration, token = linked
    break_wechat(fake_wechat)
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    refused, fallback = outbox_rows()
    assert refused.channel == Channel.WECHAT
    assert refused.status == MessageStatus.FELL_BACK
    assert refused.attempts == 1  # permanent: no retry
    assert refused.fallback_id == fallback.pk
    assert code in refused.last_error
    assert OPENID not in refused.last_error
    assert "secret_link" not in refused.context  # finished: private link erased
    assert (fallback.channel, fallback.to) == (Channel.EMAIL, registration.resident.email)
    assert fallback.status == MessageStatus.SENT
    assert fallback.idempotency_key == f"{refused.idempotency_key}:fallback"
    [email] = mail.outbox
    assert private_link_url(token) in email.body  # the link survived the fallback
    assert fake_wechat.sends == []


def test_fallback_without_email_is_sms(fake_wechat, django_capture_on_commit_callbacks):
    registration, token = registration_with_token(resident__email="")
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    fake_wechat.unsubscribed.add(OPENID)
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    refused, fallback = outbox_rows()
    assert refused.status == MessageStatus.FELL_BACK
    assert fallback.channel == Channel.SMS and fallback.status == MessageStatus.SENT
    assert len(sms.outbox) == 1 and mail.outbox == []


def test_no_other_channel_fails_with_the_reason(fake_wechat, django_capture_on_commit_callbacks):
    registration, token = registration_with_token(resident__email="", resident__phone="")
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    fake_wechat.unsubscribed.add(OPENID)
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    [message] = outbox_rows()
    assert message.status == MessageStatus.FAILED
    assert "wechat_not_following" in message.last_error


def test_unlinked_after_queueing_falls_back(
    linked, fake_wechat, django_capture_on_commit_callbacks
):
    from wechat.services import binding_remove

    registration, token = linked
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resident_notify(registration=registration, template="confirmation", key="k", token=token)
    binding_remove(resident=registration.resident)
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    refused, fallback = outbox_rows()
    assert refused.status == MessageStatus.FELL_BACK and "wechat_unlinked" in refused.last_error
    assert fallback.status == MessageStatus.SENT


def test_unreachable_is_retried_then_falls_back(
    linked, fake_wechat, settings, django_capture_on_commit_callbacks
):
    """WeChat down: retried with the outbox's backoff for WECHAT_RETRY_HOURS, then email."""
    settings.WECHAT_RETRY_HOURS = 1.0
    registration, token = linked
    fake_wechat.stop()
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    [message] = outbox_rows()
    assert message.status == MessageStatus.CREATED  # waiting for its retry
    assert "wechat_unreachable" in message.last_error
    start = timezone.now()
    for minutes in (2, 5, 10, 20, 40, 70):  # the sweep or the countdown would send it then
        with (
            time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False),
            django_capture_on_commit_callbacks(execute=False),
        ):
            message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.FELL_BACK
    assert message.attempts >= 3
    fallback = Message.objects.get(pk=message.fallback_id)
    with (
        time_machine.travel(start + datetime.timedelta(minutes=71), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        message_send(message_id=fallback.pk)
    fallback.refresh_from_db()
    assert fallback.status == MessageStatus.SENT and len(mail.outbox) == 1


def test_outage_that_ends_in_time_sends_by_wechat_once(
    linked, fake_wechat, django_capture_on_commit_callbacks
):
    registration, token = linked
    fake_wechat.stop()
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    [message] = outbox_rows()
    fake_wechat.start()  # same port
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(minutes=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        message_send(message_id=message.pk)
        message_send(message_id=message.pk)  # a second delivery of the task
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(fake_wechat.sends) == 1 and mail.outbox == []


def test_same_message_twice_is_one_message(linked, fake_wechat, django_capture_on_commit_callbacks):
    registration, token = linked
    assert notify(registration, token, key="once", capture=django_capture_on_commit_callbacks) == 1
    assert notify(registration, token, key="once", capture=django_capture_on_commit_callbacks) == 0
    message = outbox_rows()[0]
    message_send(message_id=message.pk)
    assert len(outbox_rows()) == 1 and len(fake_wechat.sends) == 1


def test_interrupted_attempt_sent_again_is_not_a_second_message(
    linked, fake_wechat, settings, django_capture_on_commit_callbacks
):
    """The worker died after WeChat took the message: the next attempt carries the same
    client_msg_id and WeChat does not send it twice."""
    registration, token = linked
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    [message] = outbox_rows()
    # As if the result had not been saved: back to "sending" with an expired lease.
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING,
        sending_started_at=timezone.now() - datetime.timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(fake_wechat.sends) == 1


def test_order_in_the_thread_is_kept(linked, fake_wechat, django_capture_on_commit_callbacks):
    """The receipt fails for a while: the decision made later waits for it."""
    registration, token = linked
    fake_wechat.fail_next("/cgi-bin/message/template/send", -1)  # system busy: retry
    notify(registration, token, "confirmation", capture=django_capture_on_commit_callbacks)
    notify(registration, token, "registered", capture=django_capture_on_commit_callbacks)
    receipt, decision = outbox_rows()
    assert receipt.status == MessageStatus.CREATED and decision.held_by_id == receipt.pk
    assert fake_wechat.sends == []
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(minutes=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        message_send(message_id=receipt.pk)
    receipt.refresh_from_db()
    decision.refresh_from_db()
    assert (receipt.status, decision.status) == (MessageStatus.SENT, MessageStatus.SENT)
    assert [s["url"] for s in fake_wechat.sends] == [private_link_url(token)] * 2
    assert fake_wechat.sends[0]["client_msg_id"] != fake_wechat.sends[1]["client_msg_id"]
    assert receipt.sent_at <= decision.sent_at


def test_quiet_hours(linked, fake_wechat, settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = ("22:00", "08:00")
    registration, token = linked
    night = datetime.datetime(
        2026, 11, 30, 23, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
    )
    with time_machine.travel(night, tick=False):
        notify(registration, token, capture=django_capture_on_commit_callbacks)
    [message] = outbox_rows()
    assert message.status == MessageStatus.CREATED
    assert timezone.localtime(message.next_attempt_at).hour == 8
    assert fake_wechat.sends == []


def test_many_messages_one_token_and_one_refresh(
    linked, fake_wechat, django_capture_on_commit_callbacks
):
    registration, token = linked
    for n in range(10):
        notify(registration, token, key=f"many:{n}", capture=django_capture_on_commit_callbacks)
    assert fake_wechat.token_requests == 1
    fake_wechat.expire_tokens()  # 42001 on the next call: one new token, no fallback
    for n in range(10, 15):
        notify(registration, token, key=f"many:{n}", capture=django_capture_on_commit_callbacks)
    assert fake_wechat.token_requests == 2
    assert len(fake_wechat.sends) == 15
    assert {m.status for m in outbox_rows()} == {MessageStatus.SENT}


def test_reason_is_translated_for_staff(linked, fake_wechat, django_capture_on_commit_callbacks):
    registration, token = linked
    fake_wechat.unsubscribed.add(OPENID)
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    refused = outbox_rows()[0]
    english = refusal_explain(refused.last_error)
    assert "does not follow the official account" in english
    with translation.override("zh-hans"):
        chinese = refusal_explain(refused.last_error)
    assert chinese != english and "43004" in chinese


def test_openid_not_in_logs_or_admin(
    linked, fake_wechat, admin_client, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    registration, token = linked
    notify(registration, token, "confirmation", capture=django_capture_on_commit_callbacks)
    fake_wechat.unsubscribed.add(OPENID)
    notify(registration, token, "registered", capture=django_capture_on_commit_callbacks)
    assert OPENID not in caplog.text
    changelist = admin_client.get("/admin/notifications/message/")
    assert changelist.status_code == 200
    content = changelist.content.decode()
    assert OPENID not in content
    assert "sent another way" in content
    for message in outbox_rows():
        page = admin_client.get(f"/admin/notifications/message/{message.pk}/change/")
        assert page.status_code == 200
        assert OPENID not in page.content.decode()


def test_reply_to_a_linked_residents_case_goes_to_wechat(
    fake_wechat, django_capture_on_commit_callbacks
):
    from inquiries.services import inquiry_assign, inquiry_reply, inquiry_submit
    from tests.stations.factories import StaffUserFactory

    registration, _token = registration_with_token()
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    fake_wechat.follow(OPENID)
    officer = StaffUserFactory(username="officer", station=registration.station)
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = inquiry_submit(
            station=registration.station,
            category="housing",
            subject="Deposit",
            description="The landlord keeps my deposit.",
            urgency="normal",
            contact_name="Aminata",
            contact_method="email",
            contact_time="any",
            language="en",
            email="aminata@example.org",
            resident=registration.resident,
        ).inquiry
        inquiry_assign(inquiry=inquiry, assignee=officer)
        inquiry_reply(inquiry=inquiry, body="We called your landlord.", by=officer)
    rows = [m for m in outbox_rows() if m.template in ("inquiries/received", "inquiries/reply")]
    assert [(m.template, m.channel, m.status) for m in rows] == [
        ("inquiries/received", Channel.WECHAT, MessageStatus.SENT),
        ("inquiries/reply", Channel.WECHAT, MessageStatus.SENT),
    ]
    receipt, reply = fake_wechat.sends
    assert "/h/" in receipt["url"]  # the case's private page
    assert reply["url"].endswith(f"/s/{registration.station.code}/")
    assert "We called your landlord." in reply["data"]["remark"]["value"]
    assert all("aminata@example.org" not in email.to for email in mail.outbox)  # staff's only


def test_staff_cannot_send_a_fallen_back_message_again(
    linked, fake_wechat, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    from notifications.services import message_retry

    registration, token = linked
    fake_wechat.unsubscribed.add(OPENID)
    notify(registration, token, capture=django_capture_on_commit_callbacks)
    refused = outbox_rows()[0]
    with pytest.raises(ValidationError):
        message_retry(message=refused)  # its fallback carried it already: no second copy


def test_residents_do_not_choose_wechat_in_the_form():
    from registration.forms.fields import ContactFieldsMixin

    choices = [
        value for value, _label in ContactFieldsMixin.base_fields["preferred_channel"].choices
    ]
    assert choices == [Channel.EMAIL, Channel.SMS]


def test_routes_of_many_residents_cost_no_query_when_read_with_their_rows(
    fake_wechat, settings, django_assert_num_queries
):
    """WeChat on: one EXISTS per resident, unless the caller read ``wechat_linked`` with
    the residents (``wechat_linked_annotation``); off: never a query."""
    from registration.models import Resident
    from tests.registration.factories import ResidentFactory
    from wechat.selectors import wechat_linked_annotation

    residents = ResidentFactory.create_batch(20)
    for n, resident in enumerate(residents[:5]):
        binding_create(resident=resident, openid=f"oLinked{n:021d}Ab", language="en")
    with django_assert_num_queries(1):
        annotated = list(
            Resident.objects.annotate(wechat_linked=wechat_linked_annotation()).order_by("pk")
        )
        routes = [resident_routes(resident)[0][0] for resident in annotated]
    assert routes == [Channel.WECHAT] * 5 + [Channel.EMAIL] * 15
    with django_assert_num_queries(20):
        [resident_routes(resident) for resident in residents]
    settings.WECHAT_APP_ID = ""  # WeChat off
    with django_assert_num_queries(0):
        assert {resident_routes(r)[0][0] for r in residents} == {Channel.EMAIL}
