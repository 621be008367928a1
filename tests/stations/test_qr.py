"""QR codes of the stable station URLs, decoded with a real decoder (zxing-cpp)."""

import io
import random
import string

import pytest
import qrcode
import qrcode.constants
import zxingcpp
from django.test import override_settings
from PIL import Image

from stations.constants import QR_PNG_MAX_SIZE, QR_PNG_MIN_SIZE, QR_PNG_SIZES
from stations.qr import best_mask, qr_matrix, qr_svg
from tests.stations.qr_decoding import decode_png, decode_svg

pytestmark = pytest.mark.django_db

SITE = "https://linli.example.org"
TARGETS = {
    "/s/shipai/qr": f"{SITE}/s/shipai/",
    "/s/shipai/register/qr": f"{SITE}/s/shipai/register/",
    "/s/shipai/help/qr": f"{SITE}/s/shipai/help/",
}


@pytest.mark.parametrize(("path", "expected"), TARGETS.items())
def test_png_qr_codes_decode_to_the_stable_url(client, station, path, expected):
    response = client.get(f"{path}.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert decode_png(response.content) == [expected]


@pytest.mark.parametrize(("path", "expected"), TARGETS.items())
def test_svg_qr_codes_decode_to_the_stable_url(client, station, path, expected):
    response = client.get(f"{path}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
    assert decode_svg(response.content) == [expected]


@pytest.mark.parametrize(("path", "expected"), TARGETS.items())
@pytest.mark.parametrize(("accept", "marker"), [("en", 'lang="en"'), ("zh-CN", 'lang="zh-hans"')])
def test_decoded_urls_open_the_right_page_in_the_visitor_language(
    client, station, path, expected, accept, marker
):
    url = decode_png(client.get(f"{path}.png").content)[0]
    assert url.startswith(SITE)
    response = client.get(url.removeprefix(SITE), HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    assert marker in response.text


def test_qr_codes_use_high_error_correction(client, station):
    image = Image.open(io.BytesIO(client.get("/s/shipai/register/qr.png").content))
    (result,) = zxingcpp.read_barcodes(image)
    assert result.ec_level in {"H", "Q"}


@override_settings(ALLOWED_HOSTS=["*"])
def test_qr_url_comes_from_site_url_never_from_the_host_header(client, station):
    response = client.get("/s/shipai/qr.png", HTTP_HOST="evil.example")
    assert decode_png(response.content) == [f"{SITE}/s/shipai/"]


def test_qr_follows_a_new_site_url(client, station):
    before = client.get("/s/shipai/qr.png")
    with override_settings(SITE_URL="https://new.example.cn"):
        after = client.get("/s/shipai/qr.png")
    assert decode_png(after.content) == ["https://new.example.cn/s/shipai/"]
    assert before["ETag"] != after["ETag"]


def test_qr_of_a_code_typed_in_capitals_encodes_the_canonical_code(client, station):
    assert decode_png(client.get("/s/SHIPAI/help/qr.png").content) == [f"{SITE}/s/shipai/help/"]


@pytest.mark.parametrize(
    "size, drawn", [(QR_PNG_MIN_SIZE, 64), (300, 512), (1000, 1024), (QR_PNG_MAX_SIZE, 2048)]
)
def test_png_is_drawn_at_the_next_of_a_few_sizes(client, station, size, drawn):
    response = client.get(f"/s/shipai/qr.png?size={size}")
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (drawn, drawn)
    assert decode_png(response.content) == [f"{SITE}/s/shipai/"]


def test_every_size_a_stranger_asks_for_fills_the_cache_with_a_few_drawings(client, station):
    """Every size from 64 to 2048, each kept for a week, would fill Redis (noeviction)."""
    etags = {client.get(f"/s/shipai/qr.png?size={size}")["ETag"] for size in range(64, 2049, 7)}
    assert len(etags) == len(QR_PNG_SIZES)


@pytest.mark.parametrize("size", ["10000", "0", str(QR_PNG_MIN_SIZE - 1), "abc", "-5", "1e3", ""])
def test_absurd_png_sizes_are_a_400(client, station, size):
    assert client.get(f"/s/shipai/qr.png?size={size}").status_code == 400


def test_qr_responses_are_cacheable_with_etag(client, station):
    first = client.get("/s/shipai/qr.svg")
    assert "max-age=" in first["Cache-Control"]
    assert "public" in first["Cache-Control"]
    assert first["ETag"]
    again = client.get("/s/shipai/qr.svg", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert client.get("/s/shipai/qr.png")["ETag"] != first["ETag"]


def test_qr_of_an_unknown_station_is_a_404(client, station):
    assert client.get("/s/nosuch/qr.svg").status_code == 404
    assert client.get("/s/nosuch/register/qr.png").status_code == 404


def test_cached_qr_costs_no_query(client, station, django_assert_num_queries):
    client.get("/s/shipai/qr.svg")
    with django_assert_num_queries(0):
        assert client.get("/s/shipai/qr.svg").status_code == 200


def _links(count: int) -> list[str]:
    """Links of every length a code holds here: a station's, a receipt's, a private link."""
    rng = random.Random(19)
    alphabet = string.ascii_letters + string.digits + "-_"
    return [
        f"{SITE}/{''.join(rng.choice(alphabet) for _ in range(rng.randint(1, 300)))}"
        for _ in range(count)
    ]


def test_the_mask_chosen_is_qrcodes_own_best_and_the_code_decodes():
    links = _links(40) + [
        f"{SITE}/workspace/registration/registration/by-reference/GZ-2026-000123/"
    ]
    versions = set()
    for link in links:
        reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_H, border=0)
        reference.add_data(link)
        reference.make(fit=True)  # qrcode's own: every mask laid out and scored
        versions.add(reference.version)
        assert qr_matrix(link) == reference.get_matrix()
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_H, border=0)
        code.add_data(link)
        code.best_fit()
        assert best_mask(code) == reference.best_mask_pattern()
        assert decode_svg(qr_svg(link)) == [link]
    assert min(versions) < 7 <= max(versions)  # with and without version information
