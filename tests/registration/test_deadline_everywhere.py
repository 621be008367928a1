"""The deadline everywhere it matters: countdown, late state, error focus, copy button."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from registration.constants import RegistrationStatus
from registration.views.receipt import deadline_countdown
from tests.registration.factories import form_data, photos, registration_with_token

pytestmark = pytest.mark.django_db
S = RegistrationStatus


def _private(token):
    return reverse("registration:private", kwargs={"token": token})


def test_countdown_counts_hours_and_minutes_and_turns_late_at_the_deadline():
    now = timezone.now()
    left = deadline_countdown(
        deadline_at=now + datetime.timedelta(hours=19, minutes=42, seconds=5), now=now
    )
    assert (left["hours"], left["minutes"], left["late"]) == (19, 42, False)
    past = deadline_countdown(deadline_at=now - datetime.timedelta(seconds=1), now=now)
    assert (past["seconds_left"], past["late"]) == (0, True)


@pytest.mark.parametrize(
    ("accept", "left"), [("en", "19 h 42 min left"), ("zh-CN", "剩余 19 小时 42 分钟")]
)
def test_private_page_shows_the_time_left_in_the_visitors_language(client, station, accept, left):
    deadline = timezone.now() + datetime.timedelta(hours=19, minutes=42, seconds=30)
    _registration, token = registration_with_token(
        station=station, status=S.CORRECTION_REQUESTED, deadline_at=deadline
    )
    response = client.get(_private(token), HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    assert left in response.text
    assert "data-linli-countdown" in response.text
    assert 'src="/static/registration/page.js"' in response.text


@pytest.mark.parametrize(
    ("accept", "late"), [("en", "Late — register now"), ("zh-CN", "已逾期——请立即登记")]
)
def test_correction_owed_after_the_deadline_says_late_register_now(client, station, accept, late):
    _registration, token = registration_with_token(
        station=station,
        status=S.CORRECTION_REQUESTED,
        arrival_at=timezone.now() - datetime.timedelta(hours=30),
        deadline_at=timezone.now() - datetime.timedelta(hours=6),
        submitted_at=timezone.now() - datetime.timedelta(hours=20),
    )
    response = client.get(_private(token), HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    assert response.context["countdown"]["late"] is True
    assert late in response.text


def test_registered_stay_shows_no_countdown(client, station):
    _registration, token = registration_with_token(station=station, status=S.REGISTERED)
    response = client.get(_private(token))
    assert response.status_code == 200
    assert response.context["countdown"] is None
    assert "data-linli-countdown" not in response.text


def _receipt(client, station):
    url = reverse("registration:register", args=[station.code])
    client.post(url, {**form_data(), **photos()})
    sent = client.post(url, {**form_data(), "step": "submit"})
    return client.get(sent["Location"])


def test_receipt_counts_down_and_offers_a_copy_button_hidden_without_javascript(client, station):
    response = _receipt(client, station)
    assert response.status_code == 200
    countdown = response.context["countdown"]
    assert not countdown["late"]
    assert f"{countdown['hours']} h {countdown['minutes']} min left" in response.text
    assert 'id="linli-private-link"' in response.text
    assert 'hidden data-linli-copy="linli-private-link"' in response.text


def test_form_errors_summary_is_the_focus_target(client, station):
    url = reverse("registration:register", args=[station.code])
    response = client.post(url, form_data(surname=""))
    assert response.status_code == 400
    assert 'tabindex="-1" id="form-errors" data-linli-focus' in response.text
    assert 'src="/static/registration/page.js"' in response.text
    assert "autofocus" not in response.text


def test_photo_forms_carry_the_shrinking_script_and_a_hidden_progress_bar(client, station):
    page = client.get(reverse("registration:register", args=[station.code])).text
    assert 'src="/static/registration/photo-shrink.js"' in page
    side = settings.REGISTRATION_IMAGE_MAX_SIDE
    assert f'id="linli-upload" class="mb-3" hidden data-max-side="{side}"' in page
    assert 'role="progressbar"' in page and 'aria-valuenow="0"' in page
