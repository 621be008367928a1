"""Photos sent in WeChat do not live forever: the nightly retention deletes their rows."""

import datetime

import pytest
from django.utils import timezone

from privacy.retention import retention_apply
from registration.models import SubmissionAttempt
from tests.registration.factories import registration_with_token
from wechat.arrivals import arrival_photo_attempt, arrival_photo_by_token, arrival_photo_receive
from wechat.models import ArrivalPhoto
from wechat.retention import arrival_photos_expire

pytestmark = pytest.mark.django_db


def _photo(registration, n: int, *, hours_ago: float):
    token = arrival_photo_receive(registration=registration, msg_id=f"70000{n}", media_id=f"M{n}")
    photo = ArrivalPhoto.objects.get(msg_id=f"70000{n}")
    ArrivalPhoto.objects.filter(pk=photo.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=hours_ago)
    )
    return photo, token


def _outcome(outcomes, rule):
    return next(outcome for outcome in outcomes if outcome.rule == rule)


def test_the_rule_is_listed_for_the_nightly_retention(settings):
    assert "wechat.retention.arrival_photos_expire" in settings.RETENTION_RULES


def test_rows_older_than_their_link_and_attempt_go_with_the_nightly_run(station, settings):
    assert settings.WECHAT_ARRIVAL_LINK_HOURS == settings.REGISTRATION_ATTEMPT_MAX_AGE_HOURS
    registration, _token = registration_with_token(station=station)
    old, old_token = _photo(registration, 1, hours_ago=25)
    attempt = arrival_photo_attempt(photo=old)
    fresh, fresh_token = _photo(registration, 2, hours_ago=23)

    dry = _outcome(retention_apply(dry_run=True), "wechat.arrival_photos")
    assert dry.deleted == 1
    assert ArrivalPhoto.objects.count() == 2

    outcomes = retention_apply()
    assert _outcome(outcomes, "wechat.arrival_photos").deleted == 1
    assert list(ArrivalPhoto.objects.all()) == [fresh]
    assert arrival_photo_by_token(token=fresh_token) == fresh
    # A form attempt the row held goes by the attempts' own rule, at its own age.
    assert SubmissionAttempt.objects.filter(pk=attempt.pk).exists()
    later = timezone.now() + datetime.timedelta(hours=25)
    assert _outcome(retention_apply(now=later), "registration.attempts").deleted >= 1
    assert not SubmissionAttempt.objects.filter(pk=attempt.pk).exists()
    # A second run finds nothing.
    assert arrival_photos_expire(now=timezone.now(), dry_run=False).deleted == 0


def test_a_longer_link_keeps_its_row_until_the_link_is_dead(station, settings):
    settings.WECHAT_ARRIVAL_LINK_HOURS = 48
    registration, _token = registration_with_token(station=station)
    photo, token = _photo(registration, 3, hours_ago=30)
    assert arrival_photos_expire(now=timezone.now(), dry_run=False).deleted == 0
    assert arrival_photo_by_token(token=token) == photo
    later = timezone.now() + datetime.timedelta(hours=19)
    assert arrival_photos_expire(now=later, dry_run=False).deleted == 1
