"""
Printing billboards: a clear warning when their QR codes would point nowhere useful, and
files that download under names that say what they are.
"""

import pytest

from core.site_url import site_url_problems
from stations.constants import MembershipRole
from tests.stations.factories import StaffUserFactory

CHANGELIST = "/admin/stations/station/"
LOCAL = "http://127.0.0.1:8201"
WARNING = "Check before printing"


def _change_url(station):
    return f"/admin/stations/station/{station.pk}/change/"


@pytest.fixture
def manager_client(client, station):
    client.force_login(StaffUserFactory(station=station, station__role=MembershipRole.MANAGER))
    return client


@pytest.mark.parametrize(
    ("url", "count"),
    [
        ("http://127.0.0.1:8000", 2),  # make run's default: plain http and this computer
        ("https://127.0.0.1:8443", 1),
        ("https://localhost", 1),
        ("https://linli.localhost", 1),
        ("https://[::1]:8443", 1),
        ("https://192.168.1.20", 1),
        ("https://203.0.113.7", 1),
        ("http://linli.example.org", 1),
        ("https://", 1),
        ("https://[::1", 2),  # not even a URL: never a 500
        ("linli.example.org", 2),
        ("https://linli.example.org", 0),
        ("HTTPS://Linli.Example.org.", 0),
    ],
)
def test_site_url_problems_name_loopback_ip_and_plain_http(url, count):
    assert len(site_url_problems(url)) == count


@pytest.mark.django_db
def test_change_page_warns_before_printing_from_a_loopback_http_site_url(
    manager_client, station, settings
):
    settings.SITE_URL = LOCAL
    response = manager_client.get(_change_url(station))
    assert response.status_code == 200
    page = response.text
    assert WARNING in page
    assert f"point to {LOCAL}" in page
    assert "127.0.0.1 is this computer itself" in page
    assert "It is not an https:// address" in page


@pytest.mark.django_db
def test_print_action_warns_before_the_download_button(manager_client, station, settings):
    settings.SITE_URL = "http://192.168.1.20:8000"
    response = manager_client.post(
        CHANGELIST, {"action": "print_billboards", "_selected_action": [station.pk]}
    )
    assert response.status_code == 200
    page = response.text
    assert page.index(WARNING) < page.index('name="apply"')
    assert "192.168.1.20 is an IP address" in page


@pytest.mark.django_db
def test_changelist_that_links_to_billboards_warns_too(manager_client, station, settings):
    settings.SITE_URL = LOCAL
    response = manager_client.get(CHANGELIST)
    assert response.status_code == 200
    assert WARNING in response.text


@pytest.mark.django_db
def test_no_warning_for_a_public_https_name(manager_client, station, settings):
    settings.SITE_URL = "https://linli.example.org"
    for response in (
        manager_client.get(_change_url(station)),
        manager_client.get(CHANGELIST),
        manager_client.post(
            CHANGELIST, {"action": "print_billboards", "_selected_action": [station.pk]}
        ),
    ):
        assert response.status_code == 200
        assert WARNING not in response.text
        assert "linli-print-warning" not in response.text


@pytest.mark.django_db
def test_warning_is_in_the_officers_language(manager_client, station, settings):
    settings.SITE_URL = LOCAL
    response = manager_client.get(_change_url(station), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 200
    assert f"打印前请检查：宣传牌和海报上的二维码将指向 {LOCAL}" in response.text
    assert "127.0.0.1 就是本机" in response.text


@pytest.mark.django_db
def test_files_download_under_names_that_say_what_they_are(manager_client, station):
    response = manager_client.get(_change_url(station))
    assert response.status_code == 200
    page = response.text
    assert 'href="/s/shipai/register/qr.svg" download="linli-qr-shipai-register.svg"' in page
    assert 'href="/s/shipai/billboard.pdf?size=A4" download=""' in page


@pytest.mark.django_db
def test_billboard_pdf_comes_with_its_file_name(client, station):
    response = client.get("/s/shipai/billboard.pdf?size=A4&purpose=register")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'inline; filename="linli-billboard-shipai-A4-register.pdf"'
    )
