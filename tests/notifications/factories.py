"""Factories for outbox messages."""

import factory
from django.utils import timezone

from notifications.constants import Channel, MessageStatus
from notifications.models import Message


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    idempotency_key = factory.Sequence(lambda n: f"test:message:{n}")
    template = "notifications/test"
    language = "en"
    channel = Channel.EMAIL
    to = factory.Sequence(lambda n: f"resident{n}@example.org")
    recipient_name = "Ana Silva"
    context = factory.LazyFunction(lambda: {"secret_link": "https://linli.example.org/r/tok"})
    status = MessageStatus.CREATED
    next_attempt_at = factory.LazyFunction(timezone.now)
