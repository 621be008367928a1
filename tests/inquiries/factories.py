"""Factories for residents (with an active registration), cases and check-in rounds."""

import datetime

import factory
from django.utils import timezone

from inquiries.models import CheckInRound, CheckInRoundIntro, ReplyTemplate
from registration.constants import RegistrationStatus
from registration.models import Registration, Resident
from registration.tokens import token_new
from tests.stations.factories import StationFactory


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    surname = factory.Sequence(lambda n: f"Diallo{n}")
    given_names = "Amina"
    sex = "female"
    date_of_birth = datetime.date(1998, 4, 2)
    nationality = "SN"
    document_number = factory.Sequence(lambda n: f"A{n:08d}")
    document_number_index = factory.Sequence(lambda n: f"{n:064x}")
    document_expiry = datetime.date(2031, 1, 1)
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    email = factory.Sequence(lambda n: f"resident{n}@example.org")
    preferred_language = "en"
    preferred_channel = "email"
    contact_consent = True


class RegistrationFactory(factory.django.DjangoModelFactory):
    """An active registration; ``raw_token`` holds its private link's token."""

    class Meta:
        model = Registration

    reference = factory.Sequence(lambda n: f"SP-{n:04d}-TEST")
    resident = factory.SubFactory(ResidentFactory)
    station = factory.SubFactory(StationFactory, code="shipai")
    status = RegistrationStatus.REGISTERED
    visa_type = "X1"
    visa_valid_until = datetime.date(2027, 7, 1)
    entry_date = datetime.date(2026, 9, 1)
    arrival_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=30))
    deadline_at = factory.LazyAttribute(lambda o: o.arrival_at + datetime.timedelta(hours=24))
    expected_departure = datetime.date(2027, 6, 30)
    stay_reason = "study"
    address = "Room 101, 1 Shipai Road"
    accommodation_type = "rented"
    host_name = "Wang Fang"
    consent_notice_version = "2026-11-25"
    consent_given_at = factory.LazyFunction(timezone.now)

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
