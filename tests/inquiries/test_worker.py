"""A check-in round sent through a real Celery worker and Redis (see tests/celery_support.py)."""

import pytest
from django.core import mail

from inquiries.constants import RoundStatus
from inquiries.models import CheckInInvitation, CheckInRound
from inquiries.services import check_in_round_send_request
from inquiries.tasks import check_in_round_send_task
from notifications.constants import MessageStatus
from notifications.models import Message
from tests.inquiries.factories import CheckInRoundFactory, RegistrationFactory
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.celery_worker


def test_round_sent_by_the_worker_invites_once_even_when_the_task_runs_twice(live_worker):
    station = StationFactory(code="shipai")
    for _ in range(3):
        RegistrationFactory(station=station)
    round = CheckInRoundFactory(station=station)

    check_in_round_send_request(round=round)  # commits, then publishes the task by ID
    check_in_round_send_task.delay(round.pk)  # a second click, or a redelivered task

    live_worker.wait_for(lambda: live_worker.finished("inquiries.check_in_round_send") == 2)
    live_worker.wait_for(
        lambda: (
            Message.objects.filter(template="inquiries/check_in", status=MessageStatus.SENT).count()
            == 3
        )
    )
    assert CheckInInvitation.objects.filter(round=round).count() == 3
    assert CheckInRound.objects.get(pk=round.pk).status == RoundStatus.SENT
    assert len(mail.outbox) == 3
