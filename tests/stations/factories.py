"""Factories for stations and their staff."""

import factory
from django.contrib.auth import get_user_model

from stations.constants import MembershipRole
from stations.models import Station, StationMembership, StationText


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"station-{n}")
    district = "Tianhe District"
    phone = "020-1234-5678"
    languages_spoken = "中文, English"

    @factory.post_generation
    def texts(self, create, extracted, **kwargs):
        if not create:
            return
        values = extracted or {
            "en": {
                "name": f"{self.code.title()} Street Expat Service Station",
                "address": f"{self.code.title()} Street, Tianhe District, Guangzhou",
                "opening_hours": "Monday–Friday 9:00–17:30",
            },
            "zh-hans": {
                "name": f"{self.code}街境外人员服务站",
                "address": f"广州市天河区{self.code}街",
                "opening_hours": "周一至周五 9:00–17:30",
            },
        }
        for language, fields in values.items():
            StationText.objects.update_or_create(station=self, language=language, defaults=fields)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery")


class StaffUserFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True

    is_staff = True

    @factory.post_generation
    def station(self, create, extracted, **kwargs):
        """Pass ``station=<Station>`` (and ``role=…``) to make the user a member."""
        if create and extracted is not None:
            from stations.services import station_membership_set

            station_membership_set(
                user=self, station=extracted, role=kwargs.get("role", MembershipRole.OFFICER)
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StationMembership

    station = factory.SubFactory(StationFactory)
    user = factory.SubFactory(StaffUserFactory)
    role = MembershipRole.OFFICER
