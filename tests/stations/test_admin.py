"""The station admin: scoped by membership; only managers and city administrators change."""

import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from core.languages import language_codes
from stations.constants import (
    BILLBOARD_MAX_LANGUAGES,
    GROUP_CITY_ADMIN,
    MembershipRole,
    QrTarget,
)
from stations.models import Station, StationMembership
from stations.visits import visit_count, visits_hand_over
from tests.stations.factories import StaffUserFactory, UserFactory
from tests.stations.qr_decoding import pdf_pages

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/stations/station/"


def change_url(station):
    return f"/admin/stations/station/{station.pk}/change/"


def change_form_data(station, **overrides):
    data = {
        "code": station.code,
        "district": station.district,
        "phone": station.phone,
        "email": "",
        "wechat_id": "",
        "languages_spoken": station.languages_spoken,
        "billboard_languages": station.billboard_languages,
        "is_active": "on",
        "texts-TOTAL_FORMS": "0",
        "texts-INITIAL_FORMS": "0",
        "texts-MIN_NUM_FORMS": "0",
        "texts-MAX_NUM_FORMS": "1000",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    texts = list(station.texts.all())
    data["texts-TOTAL_FORMS"] = data["texts-INITIAL_FORMS"] = str(len(texts))
    for index, text in enumerate(texts):
        data.update(
            {
                f"texts-{index}-id": text.pk,
                f"texts-{index}-station": station.pk,
                f"texts-{index}-language": text.language,
                f"texts-{index}-name": text.name,
                f"texts-{index}-address": text.address,
                f"texts-{index}-opening_hours": text.opening_hours,
                f"texts-{index}-area_served": "",
                f"texts-{index}-address_help": "",
            }
        )
    data.update(overrides)
    return data


def test_officer_sees_only_their_station_read_only(client, station, other_station):
    officer = StaffUserFactory(station=station)
    client.force_login(officer)
    page = client.get(CHANGELIST).text
    assert "/s/shipai/qr.svg" in page
    assert "/s/linhe/qr.svg" not in page
    assert client.get(change_url(station)).status_code == 200  # view only
    assert client.get(change_url(other_station)).status_code == 404
    response = client.post(change_url(station), change_form_data(station, phone="1"))
    assert response.status_code == 403
    assert Station.objects.get(pk=station.pk).phone != "1"


def test_manager_changes_their_station_but_never_its_code(client, station, other_station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    client.force_login(manager)
    response = client.post(
        change_url(station), change_form_data(station, code="renamed", phone="020-7777")
    )
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    station.refresh_from_db()
    assert station.code == "shipai"
    assert station.phone == "020-7777"
    assert client.get(change_url(other_station)).status_code == 404
    assert (
        client.post(change_url(other_station), change_form_data(other_station)).status_code == 404
    )


def test_manager_adds_an_officer_through_the_membership_inline(client, station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    newcomer = UserFactory(is_staff=False)
    client.force_login(manager)
    data = change_form_data(
        station,
        **{
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-user": newcomer.pk,
            "memberships-0-role": MembershipRole.OFFICER,
            "memberships-0-station": station.pk,
        },
    )
    assert client.post(change_url(station), data).status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.is_staff
    assert StationMembership.objects.filter(user=newcomer, station=station).exists()


def test_city_administrator_sees_every_station(client, station, other_station):
    city = StaffUserFactory()
    city.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    client.force_login(city)
    page = client.get(CHANGELIST).text
    assert "/s/shipai/qr.svg" in page
    assert "/s/linhe/qr.svg" in page


def test_changelist_shows_visits_qr_and_links_to_files(admin_client, station):
    for _ in range(3):
        visit_count(station.code)
    visits_hand_over()
    page = admin_client.get(CHANGELIST).text
    assert re.search(r'class="field-visits_today">3<', page)
    for link in (
        "/s/shipai/qr.png",
        "/s/shipai/register/qr.svg",
        "/s/shipai/help/qr.png",
        "/s/shipai/billboard.pdf?size=A2",
        "/s/shipai/poster.png",
    ):
        assert link in page
    change = admin_client.get(change_url(station)).text
    assert "3 visits in the last 30 days." in change


def test_change_page_shows_each_days_visits_per_purpose(admin_client, station):
    visit_count(station.code)
    for _ in range(2):
        visit_count(station.code, purpose=QrTarget.REGISTER)
    visit_count(station.code, purpose=QrTarget.HELP)
    visits_hand_over()
    response = admin_client.get(change_url(station), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "4 visits in the last 30 days." in response.text
    head = "<th>day</th><th>station page</th><th>registration form</th><th>help form</th>"
    assert head + "<th>visits</th>" in response.text
    today = timezone.localdate().isoformat()
    assert f"<tr><td>{today}</td><td>1</td><td>2</td><td>1</td><td>4</td></tr>" in response.text


def test_changelist_costs_the_same_queries_for_many_stations(
    admin_client, station, django_assert_max_num_queries
):
    from tests.stations.factories import StationFactory

    admin_client.get(CHANGELIST)
    for n in range(10):
        StationFactory(code=f"many-{n}")
    with django_assert_max_num_queries(12):
        assert admin_client.get(CHANGELIST).status_code == 200


def test_admin_search_and_active_filter(admin_client, station, other_station):
    other_station.is_active = False
    other_station.save()
    page = admin_client.get(CHANGELIST, {"q": "shipai街"}).text
    assert "/s/shipai/qr.svg" in page and "/s/linhe/qr.svg" not in page
    page = admin_client.get(CHANGELIST, {"is_active__exact": "0"}).text
    assert "/s/linhe/qr.svg" in page and "/s/shipai/qr.svg" not in page


def test_batch_action_gives_one_multi_page_pdf(client, station, other_station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    client.force_login(manager)
    ask = client.post(
        CHANGELIST,
        {"action": "print_billboards", "_selected_action": [station.pk, other_station.pk]},
    )
    assert ask.status_code == 200
    assert 'name="size"' in ask.text
    response = client.post(
        CHANGELIST,
        {
            "action": "print_billboards",
            "_selected_action": [station.pk, other_station.pk],
            "size": "A4",
            "purpose": "both",
            "apply": "1",
        },
    )
    assert response["Content-Type"] == "application/pdf"
    assert len(pdf_pages(response.content)) == 1  # the other station is not theirs


def test_admin_is_translated(client, station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    client.force_login(manager)
    page = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="zh-CN").text
    assert "今日访问量" in page
    assert "打印所选服务站的宣传牌" in page
    change = client.get(change_url(station), HTTP_ACCEPT_LANGUAGE="zh-CN").text
    assert "二维码和宣传牌" in change
    assert "宣传牌 A3（PDF）" in change


def test_city_administrator_adds_a_station_and_officers_cannot(client, station):
    city = StaffUserFactory()
    city.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    officer = StaffUserFactory(station=station)
    data = {
        "code": "yuexiu-1",
        "district": "Yuexiu District",
        "phone": "",
        "email": "",
        "wechat_id": "",
        "languages_spoken": "",
        "billboard_languages": ["zh-hans", "en"],
        "is_active": "on",
        "texts-TOTAL_FORMS": "1",
        "texts-INITIAL_FORMS": "0",
        "texts-MIN_NUM_FORMS": "1",
        "texts-MAX_NUM_FORMS": "1000",
        "texts-0-language": "en",
        "texts-0-name": "Yuexiu Station",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    client.force_login(officer)
    assert client.post("/admin/stations/station/add/", data).status_code == 403
    client.force_login(city)
    bad = client.post("/admin/stations/station/add/", {**data, "code": "Yue Xiu"})
    assert bad.status_code == 200
    assert bad.context["adminform"].form.errors.as_data()["code"][0].code == "invalid_station_code"
    assert client.post("/admin/stations/station/add/", data).status_code == 302
    assert client.get("/s/yuexiu-1/").status_code == 200


def test_officer_does_not_see_the_membership_inline(client, station):
    officer = StaffUserFactory(station=station)
    client.force_login(officer)
    page = client.get(change_url(station)).text
    assert "memberships-TOTAL_FORMS" not in page


def test_manager_chooses_billboard_languages_within_what_a4_can_hold(client, station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    client.force_login(manager)
    too_many = language_codes()[: BILLBOARD_MAX_LANGUAGES + 1]
    response = client.post(
        change_url(station), change_form_data(station, billboard_languages=too_many)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()["billboard_languages"]
    assert errors[0].code == "billboard_too_many_languages"
    response = client.post(change_url(station), change_form_data(station, billboard_languages=[]))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.as_data()["billboard_languages"]
    station.refresh_from_db()
    assert station.billboard_languages == ["zh-hans", "en"]  # nothing half-saved

    ticked = ["ar", "ko", "zh-hans"]  # in any order: stored in the site's order
    response = client.post(
        change_url(station), change_form_data(station, billboard_languages=ticked)
    )
    assert response.status_code == 302
    station.refresh_from_db()
    assert station.billboard_languages == [c for c in language_codes() if c in ticked]
    page = client.get(change_url(station)).text
    assert 'name="billboard_languages" value="ko"' in page
    assert f"at most {BILLBOARD_MAX_LANGUAGES}" in page


def test_a_forged_unknown_billboard_language_is_refused(client, station):
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    client.force_login(manager)
    response = client.post(
        change_url(station), change_form_data(station, billboard_languages=["en", "xx"])
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.as_data()["billboard_languages"]
    station.refresh_from_db()
    assert "xx" not in station.billboard_languages
