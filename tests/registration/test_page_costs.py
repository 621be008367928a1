"""
What the registration pages cost the server: work done once instead of at every page, and
the number of queries of each step (counts, never timings: bench/load.py measures time).
"""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from registration.forms import RegistrationForm
from registration.forms.fields import CountrySelect, _country_choices, _country_options
from registration.templatetags import registration_tags
from tests.registration.factories import form_data, photos

pytestmark = pytest.mark.django_db


def _register_url(station):
    return reverse("registration:register", args=[station.code])


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_country_select_is_a_plain_selects_html_in_every_language(language):
    attrs = {"class": "form-select is-invalid"}
    with translation.override(language):
        for value in (None, "", "DE", "KR", "XX", "<script>", ["FR"]):
            plain = forms.Select(choices=_country_choices, attrs=attrs)
            cached = CountrySelect(choices=_country_choices, attrs=attrs)
            expected = plain.render("nationality", value, {"id": "id_nationality"})
            assert cached.render("nationality", value, {"id": "id_nationality"}) == expected


def test_country_options_are_drawn_once_per_process_and_language(station):
    _country_options.cache_clear()
    for language in ("en", "en", "ar", "en", "ar"):
        with translation.override(language):
            html = str(
                RegistrationForm(station=station, initial={"nationality": "SN"})["nationality"]
            )
        assert html.count(" selected>") == 1
        assert '<option value="SN" selected>' in html
    info = _country_options.cache_info()
    assert (info.misses, info.hits) == (2, 3)


def test_the_chosen_nationality_is_marked_on_the_page_shown_again(client, station):
    response = client.post(_register_url(station), {**form_data(nationality="DE"), "step": "edit"})
    assert response.status_code == 200
    select = response.text.split('name="nationality"', 1)[1].split("</select>", 1)[0]
    assert select.count(" selected") == 1
    assert '<option value="DE" selected>' in select


def test_an_unknown_nationality_is_refused_next_to_the_field(client, station):
    response = client.post(_register_url(station), {**form_data(nationality="XX"), **photos()})
    assert response.status_code == 400
    assert "nationality" in response.context["form"].errors
    select = response.text.split('name="nationality"', 1)[1].split("</select>", 1)[0]
    assert " selected" not in select


def test_query_counts_of_each_step(client, station, django_assert_num_queries):
    url = _register_url(station)
    # The station with its texts.
    with django_assert_num_queries(2):
        assert client.get(url).status_code == 200
    review = client.post(url, {**form_data(), **photos()})
    assert review.status_code == 200 and 'value="submit"' in review.text
    with django_assert_num_queries(5):
        # Station and texts, the session, the attempt and its photos; no photo is sent again.
        again = client.post(url, {**form_data(), "step": "review"})
    assert again.status_code == 200 and 'value="submit"' in again.text
    submitted = client.post(url, {**form_data(), "step": "submit"})
    assert submitted.status_code == 302
    with django_assert_num_queries(7):
        assert client.get(submitted["Location"]).status_code == 200


def _fresh_form(station, **initial):
    return RegistrationForm(
        station=station,
        initial={"preferred_language": "en", "preferred_channel": "email", **initial},
    )


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_a_fresh_forms_fields_are_crispys_html_drawn_once(station, language):
    registration_tags._fresh_fields.clear()
    with translation.override(language):
        expected = {f.name: as_crispy_field(f) for f in _fresh_form(station)}
        before = dict(registration_tags.fresh_field_counts)
        for _page in range(3):
            for field in _fresh_form(station):
                assert registration_tags.as_field(field) == expected[field.name]
    counts = registration_tags.fresh_field_counts
    assert counts["drawn"] - before["drawn"] == len(expected)
    assert counts["reused"] - before["reused"] == 2 * len(expected)


def test_typed_answers_and_sent_forms_are_never_kept(station):
    registration_tags._fresh_fields.clear()
    read = _fresh_form(station, surname="Diallo", document_number="A12345678")
    assert registration_tags._fresh_field_key(read["surname"]) is None
    assert registration_tags._fresh_field_key(read["document_number"]) is None
    assert registration_tags._fresh_field_key(read["nationality"]) is not None  # a choice
    sent = RegistrationForm({**form_data(surname="")}, station=station)
    assert not sent.is_valid()
    for field in sent:
        assert registration_tags._fresh_field_key(field) is None
    html = registration_tags.as_field(sent["surname"])
    assert "is-invalid" in html
    assert not registration_tags._fresh_fields


def test_each_station_and_language_gets_its_own_address_help(client, station, other_station):
    for place, words in ((station, "Shipai West Road 3"), (other_station, "Linhe East 8")):
        text = place.texts.get(language="en")
        text.address_help = words
        text.save()
    for place, words, other in (
        (station, "Shipai West Road 3", "Linhe East 8"),
        (other_station, "Linhe East 8", "Shipai West Road 3"),
        (station, "Shipai West Road 3", "Linhe East 8"),
    ):
        page = client.get(_register_url(place), HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        assert words in page.text and other not in page.text


@pytest.mark.parametrize(
    "answers",
    [
        form_data(),
        form_data(surname='Dia"llo <b>&amp;', address="Line 1\nLine 2 & <3>", given_names=""),
        form_data(nationality="XX", date_of_birth="not a date", consent=None),
    ],
)
def test_the_review_pages_hidden_answers_are_as_hidden_html(station, answers):
    form = RegistrationForm(answers, station=station, photos_present={"passport_page"})
    form.is_valid()
    expected = "".join(field.as_hidden() for field in form if field.name not in form.photo_kinds)
    assert registration_tags.hidden_answers(form) == expected


def test_keys_tell_a_bare_attribute_from_a_value_of_one(station):
    registration_tags._fresh_fields.clear()
    drawn = {}
    for value in (True, 1, True, 1):
        form = _fresh_form(station)
        form.fields["surname"].widget.attrs["data-x"] = value
        html = registration_tags.as_field(form["surname"])
        assert html == as_crispy_field(form["surname"])
        drawn.setdefault(repr(value), html)
    assert "data-x " in drawn["True"] or "data-x>" in drawn["True"]
    assert 'data-x="1"' in drawn["1"]
    assert len(registration_tags._fresh_fields) == 2
