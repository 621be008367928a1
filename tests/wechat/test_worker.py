"""The WeChat channel through a real Celery worker and Redis (tests/celery_support.py)."""

import pytest
from django.core import mail
from django.db import transaction

from notifications.constants import Channel, MessageStatus
from notifications.models import Message
from registration.services.notify import resident_notify
from tests.registration.factories import registration_with_token
from wechat.services import binding_create

OPENID = "oWorkerTest-Openid_0123456789"
pytestmark = pytest.mark.celery_worker


def linked_registration(fake_wechat):
    registration, token = registration_with_token()
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    fake_wechat.follow(OPENID)
    return registration, token


def notify(registration, token, key, template="confirmation"):
    with transaction.atomic():  # the caller's transaction; delivery is published on commit
        resident_notify(registration=registration, template=template, key=key, token=token)


def statuses():
    return list(Message.objects.order_by("pk").values_list("channel", "status"))


def test_messages_go_to_wechat_with_one_shared_token(live_worker, fake_wechat):
    registration, token = linked_registration(fake_wechat)
    for n in range(5):
        notify(registration, token, key=f"worker:{n}")
    live_worker.wait_for(lambda: statuses() == [(Channel.WECHAT, MessageStatus.SENT)] * 5)
    assert len(fake_wechat.sends) == 5
    assert fake_wechat.token_requests == 1
    assert mail.outbox == []


def test_refusal_falls_back_to_email_through_the_worker(live_worker, fake_wechat):
    registration, token = linked_registration(fake_wechat)
    fake_wechat.unsubscribed.add(OPENID)
    notify(registration, token, key="worker:refused")
    live_worker.wait_for(
        lambda: (
            statuses()
            == [(Channel.WECHAT, MessageStatus.FELL_BACK), (Channel.EMAIL, MessageStatus.SENT)]
        )
    )
    assert len(mail.outbox) == 1 and fake_wechat.sends == []


def test_outage_is_retried_by_the_worker_and_sent_once(live_worker, fake_wechat, settings):
    settings.NOTIFICATIONS_RETRY_BASE_DELAY = 1  # the retry's countdown, in seconds
    registration, token = linked_registration(fake_wechat)
    fake_wechat.stop()
    notify(registration, token, key="worker:outage")
    live_worker.wait_for(
        lambda: Message.objects.filter(attempts__gte=1, status=MessageStatus.CREATED).exists()
    )
    fake_wechat.start()
    live_worker.wait_for(lambda: statuses() == [(Channel.WECHAT, MessageStatus.SENT)])
    assert len(fake_wechat.sends) == 1 and mail.outbox == []
