"""A station's QR codes, drawn once and then answered from the cache like static files."""

import pytest
from django.conf import settings
from django.test import override_settings

from stations import views
from stations.models import StationText
from tests.stations.qr_decoding import decode_png

pytestmark = pytest.mark.django_db

SITE = settings.SITE_URL


@pytest.fixture
def drawings(monkeypatch):
    """Count how often the view has to draw a QR code (the real drawing, counted)."""
    calls = []
    real = views.qr.station_qr

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(views.qr, "station_qr", counting)
    return calls


def test_second_request_is_answered_from_the_cache_with_the_same_bytes_and_headers(
    client, station, drawings, django_assert_num_queries
):
    first = client.get("/s/shipai/register/qr.png")
    with django_assert_num_queries(0):
        again = client.get("/s/shipai/register/qr.png")
    assert len(drawings) == 1
    assert again.status_code == 200
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == first["Cache-Control"]
    assert again["Content-Type"] == "image/png"
    assert again["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in again.headers
    assert decode_png(again.content) == [f"{SITE}/s/shipai/register/"]


def test_answer_from_the_cache_honours_if_none_match(client, station, drawings):
    etag = client.get("/s/shipai/qr.svg")["ETag"]
    assert client.get("/s/shipai/qr.svg", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert len(drawings) == 1


def test_only_the_default_png_size_is_kept(client, station, drawings):
    """Anybody may ask for any size: keeping them all would let a stranger fill the cache."""
    client.get("/s/shipai/qr.png?size=300")
    small = client.get("/s/shipai/qr.png?size=300")
    large = client.get("/s/shipai/qr.png?size=600")
    assert small.status_code == large.status_code == 200
    assert small.content != large.content
    assert len(drawings) == 3
    assert client.get("/s/shipai/qr.png?size=99999").status_code == 400
    client.get("/s/shipai/qr.png?x=1")
    client.get("/s/shipai/qr.png")
    assert len(drawings) == 4


def test_a_new_site_url_is_drawn_again(client, station):
    before = client.get("/s/shipai/qr.png")
    client.get("/s/shipai/qr.png")
    with override_settings(SITE_URL="https://new.example.cn"):
        after = client.get("/s/shipai/qr.png")
    assert decode_png(after.content) == ["https://new.example.cn/s/shipai/"]
    assert before["ETag"] != after["ETag"]


def test_a_changed_station_goes_through_the_view_again(client, station, drawings):
    client.get("/s/shipai/qr.png")
    client.get("/s/shipai/qr.png")
    text = StationText.objects.get(station=station, language="en")
    text.name = "Renamed"
    text.save()  # bumps the stations version
    assert client.get("/s/shipai/qr.png").status_code == 200
    assert len(drawings) == 2


def test_a_deleted_station_has_no_qr_code_any_more(client, station):
    client.get("/s/shipai/qr.png")
    station.delete()
    assert client.get("/s/shipai/qr.png").status_code == 404


def test_other_requests_pass_through(client, station, drawings):
    assert client.get("/s/shipai/").status_code == 200
    assert client.post("/s/shipai/qr.png").status_code == 405
    assert client.get("/s/nosuch/qr.png").status_code == 404
    assert client.get("/s/shipai/billboard.pdf?size=Z9").status_code == 400
    assert not drawings
