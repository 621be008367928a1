"""Every validation rule of the registration form, asserted by its error code."""

import datetime

import pytest
from django.utils import timezone

from registration.forms import (
    ContactForm,
    LostLinkForm,
    RegistrationForm,
    TravelDocumentForm,
    VisaRenewForm,
)
from tests.registration.factories import RegistrationFactory, form_data

pytestmark = pytest.mark.django_db
ALL_PHOTOS = {"passport_page", "visa_page", "entry_stamp"}


def _codes(form, field):
    assert not form.is_valid()
    return [error.code for error in form.errors.as_data().get(field, [])]


def _form(station, photos=ALL_PHOTOS, **overrides):
    return RegistrationForm(form_data(**overrides), station=station, photos_present=photos)


def _days(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def test_complete_form_is_valid(station):
    form = _form(station)
    assert form.is_valid(), form.errors
    data = form.service_data()
    assert data["document_number"] == "A12345678"
    assert str(data["phone"]) == "+8613800138000"
    assert "consent" not in data and "website" not in data


@pytest.mark.parametrize("value", [_days(0), _days(10)])
def test_birth_date_must_be_in_the_past(station, value):
    assert _codes(_form(station, date_of_birth=value), "date_of_birth") == ["birth_date_future"]


def test_birth_date_must_be_plausible(station):
    assert _codes(_form(station, date_of_birth="1850-01-01"), "date_of_birth") == [
        "birth_date_implausible"
    ]


@pytest.mark.parametrize("number", ["A123-456", "A 1234567", "E12345678<", "护照123"])
def test_document_number_letters_and_digits_only(station, number):
    assert _codes(_form(station, document_number=number), "document_number") == [
        "document_number_format"
    ]


def test_document_number_is_upper_cased(station):
    form = _form(station, document_number="e12345678")
    assert form.is_valid()
    assert form.cleaned_data["document_number"] == "E12345678"


def test_visa_number_letters_and_digits_only(station):
    assert _codes(_form(station, visa_number="V-1"), "visa_number") == ["document_number_format"]


def test_visa_number_is_needed_except_for_visa_free_entry(station):
    assert _codes(_form(station, visa_number=""), "visa_number") == ["visa_number_required"]
    assert _form(station, visa_number="", visa_type="visa_free").is_valid()


def test_expired_travel_document_is_refused(station):
    assert _codes(_form(station, document_expiry=_days(-1)), "document_expiry") == [
        "document_expired"
    ]


def test_visa_valid_until_must_be_after_entry(station):
    form = _form(station, entry_date=_days(-3), visa_valid_until=_days(-3))
    assert _codes(form, "visa_valid_until") == ["visa_before_entry"]


def test_entry_date_cannot_be_in_the_future(station):
    assert _codes(_form(station, entry_date=_days(1)), "entry_date") == ["entry_future"]


def test_arrival_not_before_entry_into_china(station):
    arrival = (timezone.localtime() - datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    form = _form(station, entry_date=_days(-3), arrival_at=arrival)
    assert _codes(form, "arrival_at") == ["arrival_before_entry"]


def test_arrival_not_in_the_future(station):
    arrival = (timezone.localtime() + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    assert _codes(_form(station, arrival_at=arrival), "arrival_at") == ["arrival_future"]


def test_expected_departure_after_arrival(station):
    form = _form(station, expected_departure=_days(-1))
    assert _codes(form, "expected_departure") == ["departure_before_arrival"]


@pytest.mark.parametrize("phone", ["12345", "not a phone", "+86 1"])
def test_phone_must_be_valid(station, phone):
    assert _codes(_form(station, phone=phone), "phone") == ["phone_invalid"]


def test_foreign_phone_number_is_accepted(station):
    form = _form(station, phone="+221 77 123 45 67")
    assert form.is_valid(), form.errors
    assert str(form.cleaned_data["phone"]) == "+221771234567"


def test_host_phone_is_optional_but_must_be_valid(station):
    assert _form(station, host_phone="").is_valid()
    assert _codes(_form(station, host_phone="42"), "host_phone") == ["phone_invalid"]


def test_consent_must_be_given(station):
    assert _codes(_form(station, consent=None), "consent") == ["consent_required"]


def test_each_required_photo_is_needed(station):
    form = _form(station, photos={"passport_page"})
    assert not form.is_valid()
    assert _codes(form, "visa_page") == ["photo_required"]
    assert _codes(form, "entry_stamp") == ["photo_required"]
    assert _codes(form, "lease") == []


def test_email_channel_needs_an_email(station):
    form = _form(station, email="", preferred_channel="email")
    assert _codes(form, "email") == ["email_required"]
    assert _form(station, email="", preferred_channel="sms").is_valid()


def test_honeypot_filled_in_is_refused(station):
    assert _codes(_form(station, website="http://spam.example"), "website") == ["honeypot"]


def test_required_fields_are_required(station):
    form = _form(station, surname="", nationality="", visa_type="", address="")
    assert not form.is_valid()
    for field in ("surname", "nationality", "visa_type", "address"):
        assert _codes(form, field) == ["required"]


def test_country_names_follow_the_visitors_language(station):
    from django.utils import translation

    with translation.override("zh-hans"):
        html = str(RegistrationForm(station=station)["nationality"])
    assert "塞内加尔" in html


def test_address_help_comes_from_the_station_in_the_visitors_language(station):
    from django.utils import translation

    text = station.texts.get(language="zh-hans")
    text.address_help = "例如：石牌西路3号楼2单元501房"
    text.save()
    with translation.override("zh-hans"):
        form = RegistrationForm(station=station)
        assert form.fields["address"].help_text == "例如：石牌西路3号楼2单元501房"


def test_visa_renewal_must_be_valid_longer_than_before(station):
    registration = RegistrationFactory(station=station)
    data = {
        "visa_type": "residence_permit",
        "visa_number": "R123",
        "visa_valid_until": registration.visa_valid_until.isoformat(),
    }
    form = VisaRenewForm(data, registration=registration, photos_present={"visa_page"})
    assert _codes(form, "visa_valid_until") == ["valid_until_not_later"]
    form = VisaRenewForm(data, registration=registration, photos_present=set())
    assert _codes(form, "visa_page") == ["photo_required"]


def test_travel_document_update_rules(db):
    form = TravelDocumentForm(
        {"document_type": "passport", "document_number": "X-1", "document_expiry": _days(-2)},
        photos_present={"passport_page"},
    )
    assert _codes(form, "document_number") == ["document_number_format"]
    assert _codes(form, "document_expiry") == ["document_expired"]


def test_contact_form_checks_phone(db):
    form = ContactForm(
        {"phone": "1", "email": "", "preferred_language": "en", "preferred_channel": "sms"}
    )
    assert _codes(form, "phone") == ["phone_invalid"]


def test_lost_link_form_needs_both_fields(db):
    form = LostLinkForm({"reference": "", "document_number": ""})
    assert _codes(form, "reference") == ["required"]
    assert _codes(form, "document_number") == ["required"]
