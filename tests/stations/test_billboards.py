"""Printable billboards: vector PDF with the CJK font embedded, QR codes that scan, no overflow."""

import io
import re
from unittest import mock

import pytest
from django.conf import settings
from django.test import override_settings
from PIL import Image

from stations import billboards
from stations.billboards import build_pdf, build_poster
from stations.constants import POSTER_SIZE
from tests.stations.factories import StationFactory
from tests.stations.qr_decoding import decode_pdf_page, decode_png, pdf_pages

pytestmark = pytest.mark.django_db

SITE = "https://linli.example.org"


def test_a3_billboard_qr_codes_open_register_and_help_in_every_language(client, station):
    pdf = pdf_pages(build_pdf([station], "A3").content)
    assert len(pdf) == 1
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == (842, 1191)  # A3 portrait, in points
    urls = decode_pdf_page(pdf[0])
    assert urls == [f"{SITE}/s/shipai/help/", f"{SITE}/s/shipai/register/"]
    for url in urls:
        for accept, marker in (("en", 'lang="en"'), ("zh-CN", 'lang="zh-hans"')):
            response = client.get(url.removeprefix(SITE), HTTP_ACCEPT_LANGUAGE=accept)
            assert response.status_code == 200
            assert marker in response.text


@pytest.mark.parametrize(
    ("purpose", "path"),
    [("station", "/s/shipai/"), ("register", "/s/shipai/register/"), ("help", "/s/shipai/help/")],
)
def test_single_purpose_billboard_has_one_large_qr(client, station, purpose, path):
    pdf = pdf_pages(build_pdf([station], "A3", purpose).content)
    assert decode_pdf_page(pdf[0]) == [f"{SITE}{path}"]
    assert client.get(path).status_code == 200


def test_billboard_embeds_the_cjk_truetype_font_and_has_the_chinese_name_as_text(station):
    content = build_pdf([station], "A3").content
    assert b"/FontFile2" in content  # an embedded TrueType font program
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansSC", content)  # subset of our font
    text = pdf_pages(content)[0].get_textpage().get_text_range()
    assert "shipai街境外人员服务站" in text
    assert "Shipai Street Expat Service Station" in text


def test_billboard_speaks_every_language_at_once(station):
    text = pdf_pages(build_pdf([station], "A4").content)[0].get_textpage().get_text_range()
    compact = re.sub(r"\s+", "", text)
    assert "Scan to register your stay" in text
    assert "扫码办理住宿登记" in compact
    assert "24 hours" in text
    assert "24小时内" in compact
    assert "Station code: shipai" in text
    assert "服务站编号：shipai" in compact
    assert "linli.example.org/s/shipai/register/" in compact
    assert "020-1234-5678" in text


@override_settings(
    LANGUAGES=[*settings.LANGUAGES, ("fr", "French")],
)
def test_a_third_language_gets_its_own_lines(station):
    StationFactory(
        code="shipai",
        texts={"fr": {"name": "Station de services de Shipai", "address": "Rue Shipai"}},
    )
    station.refresh_from_db()
    text = pdf_pages(build_pdf([station], "A4").content)[0].get_textpage().get_text_range()
    assert "Station de services de Shipai" in text
    assert "Shipai Street Expat Service Station" in text
    assert "石牌" in text or "shipai街" in text


@pytest.mark.parametrize("size", ["A4", "A3", "A2"])
def test_longest_names_never_overflow_or_collide(size):
    longest = 200  # StationText.name max_length
    station = StationFactory(
        code="a" * 32,
        phone=("+86 20 1234 5678 ext. " + "9" * 40)[:40],
        wechat_id="w" * 64,
        texts={
            "en": {
                "name": ("Very Long Street Name " * 20)[:longest],
                "address": "Building 12, Unit 3, Room 1501, " * 8,
                "opening_hours": "Monday–Friday 9:00–12:00, 14:00–17:30\n" * 4,
            },
            "zh-hans": {
                "name": ("很长的街道名称境外人员服务站" * 20)[:longest],
                "address": "广州市天河区石牌街道很长的路名门牌号栋单元房号" * 6,
                "opening_hours": "周一至周五 9:00–12:00，14:00–17:30\n" * 4,
            },
        },
    )
    assert len(station.texts.get(language="en").name) == longest
    built = build_pdf([station], size)
    regions = built.pages[0]
    page = pdf_pages(built.content)[0]
    page_width, page_height = page.get_size()
    for index, region in enumerate(regions):
        assert region.x >= 0
        assert region.top >= 0
        assert region.x + region.width <= page_width
        assert region.top + region.height <= page_height
        for other in regions[index + 1 :]:
            assert not region.overlaps(other), (region, other)
    text_regions = [r for r in regions if r.kind != "qr"]
    textpage = page.get_textpage()
    for index in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(index)
        if right - left <= 0 or top - bottom <= 0:
            continue  # spaces and line breaks
        box = (left, page_height - top, right, page_height - bottom)
        assert any(r.contains(*box) for r in text_regions), (index, box)
    # Still scannable, still says where it leads.
    assert len(decode_pdf_page(page)) == 2


def test_batch_pdf_has_one_page_per_station(station, other_station):
    pdf = pdf_pages(build_pdf([station, other_station], "A4").content)
    assert len(pdf) == 2
    assert decode_pdf_page(pdf[1]) == [f"{SITE}/s/linhe/help/", f"{SITE}/s/linhe/register/"]


def test_poster_is_a_phone_sized_png_whose_qr_codes_scan(station):
    content = build_poster(station).content
    image = Image.open(io.BytesIO(content))
    assert image.size == POSTER_SIZE == (1080, 1920)
    assert sorted(decode_png(content)) == [f"{SITE}/s/shipai/help/", f"{SITE}/s/shipai/register/"]


def test_billboard_view_serves_cached_pdf_and_regenerates_after_a_change(client, station):
    with mock.patch.object(billboards, "build_pdf", wraps=billboards.build_pdf) as build:
        first = client.get("/s/shipai/billboard.pdf?size=A3")
        second = client.get("/s/shipai/billboard.pdf?size=a3")
        assert build.call_count == 1
        assert first.status_code == second.status_code == 200
        assert first["Content-Type"] == "application/pdf"
        assert first["ETag"] == second["ETag"]
        assert (
            client.get(
                "/s/shipai/billboard.pdf?size=A3", HTTP_IF_NONE_MATCH=first["ETag"]
            ).status_code
            == 304
        )
        text = station.texts.get(language="zh-hans")
        text.name = "石牌街境外人员服务站"
        text.save()
        third = client.get("/s/shipai/billboard.pdf?size=A3")
        assert build.call_count == 2
        assert third["ETag"] != first["ETag"]
    assert "石牌街境外人员服务站" in pdf_pages(third.content)[0].get_textpage().get_text_range()


def test_billboard_view_rejects_unknown_size_or_purpose_and_unknown_station(client, station):
    assert client.get("/s/shipai/billboard.pdf?size=A9").status_code == 400
    assert client.get("/s/shipai/billboard.pdf?purpose=nonsense").status_code == 400
    assert client.get("/s/nosuch/billboard.pdf").status_code == 404
    assert client.get("/s/shipai/poster.png?purpose=nonsense").status_code == 400


def test_poster_view(client, station):
    response = client.get("/s/shipai/poster.png?purpose=station")
    assert response.status_code == 200
    assert decode_png(response.content) == [f"{SITE}/s/shipai/"]


def test_wrap_breaks_words_cjk_and_overlong_tokens():
    def measure(text):
        return len(text)

    assert billboards.wrap("one two three", 7, measure) == ["one two", "three"]
    assert billboards.wrap("石牌街境外人员服务站", 4, measure) == ["石牌街境", "外人员服", "务站"]
    assert billboards.wrap("https://x.example/s/abc/", 10, measure) == [
        "https://x.",
        "example/s/",
        "abc/",
    ]
