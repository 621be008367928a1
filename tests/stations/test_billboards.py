"""Printable billboards: vector PDF with the CJK font embedded, QR codes that scan, no overflow."""

import io
import itertools
import re
import unicodedata
from unittest import mock

import pytest
from PIL import Image

from core.languages import language_codes
from stations import billboards, typesetting
from stations.billboards import build_pdf, build_poster
from stations.constants import BILLBOARD_MAX_LANGUAGES, POSTER_SIZE
from tests.stations.factories import StationFactory
from tests.stations.qr_decoding import decode_pdf_page, decode_png, pdf_pages

pytestmark = pytest.mark.django_db

SITE = "https://linli.example.org"
# The smallest text of an A4 billboard a person reads from a step away.
BILLBOARD_MIN_FONT_SIZE = 6


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


def test_a_station_prints_the_languages_it_chose_and_no_other(station):
    StationFactory(
        code="shipai",
        texts={"fr": {"name": "Station de services de Shipai", "address": "Rue Shipai"}},
    )
    station.refresh_from_db()
    assert station.billboard_language_codes() == ["en", "zh-hans"]  # the default, site order
    station.billboard_languages = ["fr", "ko", "zh-hans"]
    station.save()
    text = pdf_pages(build_pdf([station], "A4").content)[0].get_textpage().get_text_range()
    compact = re.sub(r"\s+", "", text)
    assert "Station de services de Shipai" in text
    assert "숙박등록" in compact  # Korean from the catalogue
    assert "住宿登记" in compact
    assert "スキャン" not in text  # Japanese was not chosen


def test_a_language_the_site_dropped_is_skipped_on_old_stations(station):
    station.billboard_languages = ["xx", "zh-hans"]  # stored before the site dropped "xx"
    assert station.billboard_language_codes() == ["zh-hans"]
    station.billboard_languages = ["xx"]
    assert station.billboard_language_codes() == ["en", "zh-hans"]  # never an empty sheet


KOREAN_NAME = "스파이 거리 외국인 서비스센터"
ARABIC_NAME = "مركز خدمة الأجانب في شارع شيباي"
ARABIC_ADDRESS = "شارع شيباي، منطقة تيانخه، قوانغتشو"


def _korean_and_arabic_station():
    station = StationFactory(
        code="shipai",
        phone="+86 20 1234 5678",
        texts={
            "ko": {"name": KOREAN_NAME, "address": "광저우시 톈허구 스파이가"},
            "ar": {"name": ARABIC_NAME, "address": ARABIC_ADDRESS},
        },
    )
    station.billboard_languages = ["ko", "ar"]
    station.save()
    return station


def test_korean_and_arabic_billboard_reads_back_in_logical_order():
    built = build_pdf([_korean_and_arabic_station()], "A4")
    content = built.content
    # Hangul and Arabic come from their own embedded (subset) fonts.
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansKR", content)
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansArabic", content)
    text = unicodedata.normalize("NFKC", pdf_pages(content)[0].get_textpage().get_text_range())
    assert KOREAN_NAME in text
    assert "QR을 스캔해 숙박 등록" in text
    assert "외국인은 도착 후 24시간 이내에 숙박 등록을 해야 합니다." in text
    # Shaped and joined on paper, yet the text layer gives the words in reading order.
    assert ARABIC_NAME in text
    assert ARABIC_ADDRESS in text
    assert "+86 20 1234 5678" in text
    assert all(not region.cut for region in built.pages[0])


def test_arabic_is_drawn_with_joined_letters_right_to_left():
    runs = typesetting.visual_runs("شارع شيباي", "ar")
    assert [run.font for run in runs] == [typesetting.ARABIC]
    drawn = runs[0].text
    # Presentation forms (joined shapes), the last word first from the left.
    assert all("\ufe70" <= char <= "\ufeff" or char == " " for char in drawn)
    assert unicodedata.normalize("NFKC", drawn) == "يابيش عراش"


def test_a_phone_number_inside_arabic_keeps_its_digit_groups_in_order():
    isolated = billboards.content._ltr("+86 20 1234 5678")
    drawn = "".join(run.text for run in typesetting.visual_runs(f"الهاتف: {isolated}", "ar"))
    assert "+86 20 1234 5678" in drawn
    assert "\u2066" not in drawn and "\u2069" not in drawn  # no box for a control character


def test_japanese_takes_japanese_glyph_forms_and_latin_stays_in_one_font():
    fonts = {run.font for run in typesetting.visual_runs("宿泊登記 24時間 ABC", "ja")}
    assert fonts == {typesetting.JP, typesetting.SC}
    assert typesetting.visual_runs("宿泊登记", "zh-hans")[0].font == typesetting.SC


def test_right_to_left_paragraphs_start_on_the_right():
    station = _korean_and_arabic_station()
    content = billboards.billboard_content(station)
    arabic_info = [t for t in content.info if t.language == "ar"]
    korean_info = [t for t in content.info if t.language == "ko"]
    assert arabic_info and korean_info

    class Recorder(billboards.PngRenderer):
        def __init__(self, *args):
            super().__init__(*args)
            self.drawn = []

        def text(self, x, baseline, text, size, language, **kwargs):
            end = x + self.measure(text, size, language)
            self.drawn.append((language, baseline, x, end))

    renderer = Recorder(*POSTER_SIZE)
    regions = billboards.draw_billboard(renderer, content)
    info = next(region for region in regions if region.kind == "info")
    lines = [d for d in renderer.drawn if info.top <= d[1] <= info.top + info.height]
    arabic = [(x, end) for language, _baseline, x, end in lines if language == "ar"]
    korean = [(x, end) for language, _baseline, x, end in lines if language == "ko"]
    assert arabic and korean
    assert all(abs(end - (info.x + info.width)) < 2 for _x, end in arabic)
    assert all(abs(x - info.x) < 2 for x, _end in korean)


@pytest.mark.parametrize(
    "languages",
    list(itertools.combinations(language_codes(), BILLBOARD_MAX_LANGUAGES)),
    ids="+".join,
)
def test_the_most_languages_a_station_may_choose_stay_legible_on_a4(languages):
    station = StationFactory(
        code="shipai",
        phone="+86 20 1234 5678",
        wechat_id="linli_shipai",
        texts={
            language: {
                "name": f"Shipai Street Expat Service Station ({language})",
                "address": "Building 12, Shipai Street, Tianhe District, Guangzhou",
                "opening_hours": "Monday–Friday 9:00–12:00, 14:00–17:30",
            }
            for language in languages
        },
    )
    station.billboard_languages = list(languages)
    regions = build_pdf([station], "A4").pages[0]
    for region in regions:
        if region.kind != "qr":
            assert region.font_size >= BILLBOARD_MIN_FONT_SIZE, region
            assert not region.cut, region


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
    with mock.patch.object(billboards.files, "build_pdf", wraps=billboards.build_pdf) as build:
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
    assert billboards.wrap("숙박 등록하기 센터", 6, measure) == ["숙박", "등록하기", "센터"]
    assert billboards.wrap("石牌街境外人员服务站", 4, measure) == ["石牌街境", "外人员服", "务站"]
    assert billboards.wrap("https://x.example/s/abc/", 10, measure) == [
        "https://x.",
        "example/s/",
        "abc/",
    ]
