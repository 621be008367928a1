"""Factories for residents (with an active registration), cases and check-in rounds."""

import datetime

import factory
from django.utils import timezone

from core.tokens import token_new
from inquiries.models import CheckInRound, CheckInRoundIntro, ReplyTemplate
from registration.constants import RegistrationStatus
from tests.registration.factories import RegistrationFactory as BaseRegistrationFactory
from tests.registration.factories import ResidentFactory  # noqa: F401 - re-exported
from tests.stations.factories import StationFactory


class RegistrationFactory(BaseRegistrationFactory):
    """An active registration; ``raw_token`` holds its private link's token."""

    status = RegistrationStatus.REGISTERED
    arrival_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=30))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        raw, digest = token_new()
        kwargs["token_hash"] = digest
        obj = super()._create(model_class, *args, **kwargs)
        obj.raw_token = raw
        return obj


class CheckInRoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckInRound
        skip_postgeneration_save = True

    station = factory.SubFactory(StationFactory, code="shipai")
    title = "Autumn check-in"

    @factory.post_generation
    def intros(self, create, extracted, **kwargs):
        if not create:
            return
        texts = extracted or {
            "en": "Hello from your station! We would like to know how you are.",
            "zh-hans": "您好！服务站想了解您的近况。",
        }
        for language, text in texts.items():
            CheckInRoundIntro.objects.create(round=self, language=language, text=text)


class ReplyTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReplyTemplate

    language = "en"
    title = factory.Sequence(lambda n: f"Template {n}")
    body = "Thank you for your message. We are looking into it."
