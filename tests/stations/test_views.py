"""The station page a QR code opens: fast, light, in the visitor's language."""

import gzip
import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.staticfiles import finders
from django.core.cache.backends import locmem
from django.test import Client, RequestFactory
from django.urls import reverse

from stations.constants import EMERGENCY_NUMBERS
from stations.pages import PAGE_SECONDS
from stations.selectors import station_page_data
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.django_db

STATION_URL = "/s/shipai/"


def test_station_page_in_english_shows_station_actions_rule_and_numbers(client, station):
    response = client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.text
    assert "Shipai Street Expat Service Station" in page
    assert "Shipai Street, Tianhe District, Guangzhou" in page
    assert "020-1234-5678" in page
    assert "within 24 hours of arrival" in page
    assert f'href="{reverse("registration:register", kwargs={"code": "shipai"})}"' in page
    assert f'href="{reverse("registration:update_start")}"' in page
    assert f'href="{reverse("inquiries:help", kwargs={"code": "shipai"})}"' in page
    for number, _label in EMERGENCY_NUMBERS:
        assert f'href="tel:{number}"' in page
    assert {"110", "119", "120", "12345", "12367"} <= {n for n, _label in EMERGENCY_NUMBERS}


def test_station_page_in_chinese(client, station):
    page = client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").text
    assert '<html lang="zh-hans"' in page
    assert "shipai街境外人员服务站" in page
    assert "办理住宿登记" in page
    assert "咨询求助" in page
    assert "24小时" in page


def test_station_page_links_use_the_language_switcher(client, station):
    page = client.get(STATION_URL).text
    assert f'href="/language/zh-hans/?next={STATION_URL}"' in page


def test_station_code_is_matched_case_insensitively(client, station):
    response = client.get("/s/ShiPai/")
    assert response.status_code == 200
    assert "Shipai Street Expat Service Station" in response.text
    # The canonical, lowercase code is what the page links to.
    assert 'href="/s/shipai/register/"' in response.text


@pytest.mark.parametrize("code", ["nosuch", "no such", "x" * 300, "%E7%9F%B3"])
def test_unknown_code_is_a_translated_404_linking_to_the_list(client, station, code):
    english = client.get(f"/s/{code}/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get(f"/s/{code}/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert english.status_code == chinese.status_code == 404
    assert "Station not found" in english.text
    assert 'href="/"' in english.text
    assert "未找到服务站" in chinese.text


def test_inactive_station_says_so_and_lists_the_nearest_active_ones(client):
    closed = StationFactory(code="closed", district="Tianhe District")
    closed.is_active = False
    closed.save()
    StationFactory(code="near", district="Tianhe District")
    StationFactory(code="far", district="Yuexiu District")
    StationFactory(code="also-closed", district="Tianhe District", is_active=False)
    response = client.get("/s/closed/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 410
    page = response.text
    assert "This station is closed" in page
    links = re.findall(r'href="/s/([a-z0-9-]+)/"', page)
    assert links[:2] == ["near", "far"]  # same district first
    assert "also-closed" not in links
    assert 'href="/s/closed/register/"' not in page


def test_station_page_costs_at_most_two_queries_and_none_when_cached(
    client, station, django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(2):
        assert client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="zh-CN").status_code == 200
    with django_assert_num_queries(0):
        assert client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="zh-CN").status_code == 200


def test_cached_station_page_follows_changes_of_texts(client, station):
    client.get(STATION_URL)
    text = station.texts.get(language="en")
    text.name = "Shipai Street Station, renamed"
    text.save()
    assert "Shipai Street Station, renamed" in client.get(STATION_URL).text


def test_cached_inactive_page_follows_other_stations_opening(client):
    closed = StationFactory(code="closed")
    closed.is_active = False
    closed.save()
    assert "/s/newly-open/" not in client.get("/s/closed/").text
    StationFactory(code="newly-open")
    assert 'href="/s/newly-open/"' in client.get("/s/closed/").text


def test_unknown_codes_that_cannot_exist_cost_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/s/NOT_A_CODE!/").status_code == 404


def test_station_page_data_is_plain_data(station):
    data = station_page_data("SHIPAI")
    assert data["code"] == "shipai"
    assert set(data["texts"]) == {"en", "zh-hans"}


def test_station_page_weight_is_under_100_kb_compressed(client, station):
    """First view: the HTML plus every stylesheet it links, gzip-compressed."""
    response = client.get(STATION_URL)
    html = response.content
    total = len(gzip.compress(html, 9))
    stylesheets = re.findall(r'<link rel="stylesheet" href="/static/([^"]+)"', response.text)
    assert "css/stations.css" in stylesheets
    for name in stylesheets:
        total += len(gzip.compress(Path(finders.find(name)).read_bytes(), 9))
    scripts = re.findall(r'<script[^>]+src="/static/([^"]+)"', response.text)
    for name in scripts:
        total += len(gzip.compress(Path(finders.find(name)).read_bytes(), 9))
    assert not re.search(r'(src|href)="https?://', response.text)  # no external host
    assert total < 100 * 1024, total


def test_home_lists_active_stations_linking_to_their_pages(client, station):
    closed = StationFactory(code="closed")
    closed.is_active = False
    closed.save()
    page = client.get("/").text
    assert 'href="/s/shipai/"' in page
    assert 'href="/s/closed/"' not in page


def test_station_page_and_qr_work_while_the_cache_is_down(client, station, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for method in ("get", "set", "add", "incr", "get_many"):  # what the page and visits use
        monkeypatch.setattr(cache, method, down)
    response = client.get(STATION_URL)
    assert response.status_code == 200
    assert "Shipai Street Expat Service Station" in response.text
    assert client.get("/s/shipai/register/qr.png").status_code == 200
    assert client.get("/s/nosuch/").status_code == 404


# ------------------------------------------------------------------------------
# The page kept whole (stations.pages): per station and language, never anybody's own
# ------------------------------------------------------------------------------
def test_cached_page_is_the_same_page_without_a_query(client, station, django_assert_num_queries):
    first = client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="en")
    with django_assert_num_queries(0):
        again = client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 200
    assert again.content == first.content
    for header in ("Content-Type", "Content-Language", "Vary", "X-Frame-Options"):
        assert again[header] == first[header], header
    assert "Content-Security-Policy" in again


def test_station_page_carries_no_csrf_token_and_sets_no_cookie(station):
    visitor = Client(enforce_csrf_checks=True)
    for _view in range(2):  # rendered, then from the cache
        response = visitor.get(STATION_URL)
        assert response.status_code == 200
        assert "csrfmiddlewaretoken" not in response.text
        assert not response.cookies


def test_page_varies_on_accept_language_and_cookie_and_is_cached_per_language(client, station):
    english = client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in english["Vary"].split(",")}
    chinese = client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="zh-hans"' in chinese.text
    assert "办理住宿登记" in chinese.text
    assert '<html lang="en"' in client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="en").text
    # The language cookie outweighs the browser, cached or not.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert '<html lang="zh-hans"' in client.get(STATION_URL, HTTP_ACCEPT_LANGUAGE="en").text


def test_any_case_and_query_string_share_the_station_page(
    client, station, django_assert_num_queries
):
    client.get(STATION_URL)
    with django_assert_num_queries(0):
        response = client.get("/s/ShiPai/?from=poster&x=%22%3E%3Cscript%3E")
    assert response.status_code == 200
    assert "<script>" not in response.text
    # The language menu comes back to the station's own URL, whatever the request's was.
    assert "?next=/s/shipai/" in response.text
    assert "from=poster" not in response.text


def test_a_change_saved_by_another_process_shows_once_the_kept_page_expires(
    client, station, monkeypatch
):
    client.get(STATION_URL)
    # Saved through another web process: this process's signal never ran.
    station.texts.filter(language="en").update(name="Renamed elsewhere")
    assert "Renamed elsewhere" not in client.get(STATION_URL).text  # the kept copy
    later = time.time() + PAGE_SECONDS + 0.1
    monkeypatch.setattr(locmem.time, "time", lambda: later)
    assert "Renamed elsewhere" in client.get(STATION_URL).text


def test_cached_page_follows_changes_of_the_station_itself(client, station):
    client.get(STATION_URL)
    station.phone = "020-9999-0000"
    station.save()
    assert "020-9999-0000" in client.get(STATION_URL).text
    station.is_active = False
    station.save()
    assert client.get(STATION_URL).status_code == 410


def test_another_visitors_message_never_reaches_the_cache(client, station):
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.INFO, "Saved, thank you.")])
    assert "Saved, thank you." in client.get(STATION_URL).text  # rendered for them alone
    assert "Saved, thank you." not in client.get(STATION_URL).text  # shown once
    stranger = Client()
    assert "Saved, thank you." not in stranger.get(STATION_URL).text


def test_signed_in_staff_are_rendered_for_and_never_stored(
    client, station, admin_user, django_assert_num_queries
):
    client.force_login(admin_user)
    assert client.get(STATION_URL).status_code == 200
    # Nothing was stored from the staff member's page: a visitor's first view renders.
    with django_assert_num_queries(2):
        assert Client().get(STATION_URL).status_code == 200


def test_forged_host_is_refused_even_for_a_cached_page(client, station):
    client.get(STATION_URL)
    assert client.get(STATION_URL, HTTP_HOST="evil.example").status_code == 400
