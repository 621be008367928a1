"""A photo sent in WeChat reaches its re-entry through a real Celery worker and Redis broker."""

import datetime

import pytest
from django.utils import timezone

from registration.constants import RegistrationStatus
from tests.registration.factories import jpeg_bytes, registration_with_token
from tests.wechat.callbacks import image_xml, post_plain
from wechat.constants import ArrivalPhotoStatus
from wechat.models import ArrivalPhoto
from wechat.services import binding_create

pytestmark = pytest.mark.celery_worker

OPENID = "oWorkerResident000000000001b"


def test_photo_download_goes_through_the_broker(live_worker, fake_wechat, client, station):
    fake_wechat.media["MEDIA-W"] = (jpeg_bytes(), "image/jpeg")
    registration, _token = registration_with_token(
        station=station,
        status=RegistrationStatus.REGISTERED,
        entry_date=timezone.localdate() - datetime.timedelta(days=60),
        arrival_at=timezone.now() - datetime.timedelta(days=59),
    )
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    response = post_plain(
        client, image_xml(from_user=OPENID, media_id="MEDIA-W"), token="callback-token"
    )
    assert response.status_code == 200 and b"/wechat/back/" in response.content
    live_worker.wait_for(
        lambda: (
            ArrivalPhoto.objects.values_list("status", flat=True).get() == ArrivalPhotoStatus.READY
        )
    )
    assert live_worker.finished("wechat.arrival_photo_fetch") == 1
