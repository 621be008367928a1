"""Station codes are printed on walls: they cannot change once the station exists."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from stations.models import Station
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.django_db


def test_station_code_cannot_change_on_save(station):
    station = Station.objects.get(pk=station.pk)
    station.code = "renamed"
    with pytest.raises(ValidationError) as error:
        station.save()
    assert error.value.code == "code_immutable"
    assert Station.objects.filter(code="shipai").exists()


def test_station_code_change_is_a_validation_error_on_clean(station):
    station = Station.objects.get(pk=station.pk)
    station.code = "renamed"
    with pytest.raises(ValidationError) as error:
        station.full_clean()
    assert error.value.error_dict["code"][0].code == "code_immutable"


def test_other_fields_still_change(station):
    station = Station.objects.get(pk=station.pk)
    station.phone = "020-9999-9999"
    station.save()
    assert Station.objects.get(pk=station.pk).phone == "020-9999-9999"


def test_codes_are_unique_whatever_the_case(station):
    with pytest.raises(IntegrityError):
        Station.objects.create(code="SHIPAI")


@pytest.mark.parametrize("code", ["Shipai", "-shipai", "shi pai", "shipai-", "石牌"])
def test_invalid_codes_are_rejected(code):
    station = Station(code=code)
    with pytest.raises(ValidationError) as error:
        station.full_clean()
    assert "code" in error.value.error_dict


def test_names_follow_the_languages_setting_order():
    station = StationFactory(code="tianhe-2")
    assert [language for language, _name in station.names()] == ["en", "zh-hans"]
