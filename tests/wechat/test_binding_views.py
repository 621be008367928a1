"""
Linking a resident's WeChat from the private page, unlinking it, and the account's menu
entry "My registration" — through the fake WeChat, as a phone in WeChat would.
"""

import io
import logging
import re
import urllib.parse
import urllib.request
import zipfile

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.registration.factories import registration_with_token
from wechat.models import WeChatBinding
from wechat.selectors import binding_for_openid, binding_for_resident
from wechat.services import binding_create

pytestmark = pytest.mark.django_db

OPENID = "oRes1dentOpenIdAbCdEfGh1234"
OTHER_OPENID = "oStrangerOpenIdZyXwVuT98765"
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003129) NetType/WIFI "
    "Language/zh_CN"
)
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _wechat(client) -> Client:
    client.defaults["HTTP_USER_AGENT"] = WECHAT_UA
    return client


def _private(token, name="private"):
    return reverse(f"registration:{name}", kwargs={"token": token})


def _bind_url(token, name="bind_start"):
    return reverse(f"wechat:{name}", kwargs={"token": token})


def _authorize(location: str) -> str:
    """Open WeChat's authorize URL on the fake WeChat; return the path WeChat sends back to."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(location.split("#")[0], timeout=5)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302
        back = redirect.headers["Location"]
    else:
        raise AssertionError("WeChat did not send the resident back")
    assert back.startswith(settings.SITE_URL)
    return back[len(settings.SITE_URL) :]


def _consent(client, token) -> str:
    """Tap "Link my WeChat"; return the authorize URL WeChat is asked."""
    response = client.post(_bind_url(token))
    assert response.status_code == 302
    return response["Location"]


def _link(client, fake_wechat, token, openid=OPENID):
    fake_wechat.authorize_as = openid
    return client.get(_authorize(_consent(client, token)))


def test_private_page_in_wechat_offers_linking_until_not_now(client, fake_wechat, station):
    registration, token = registration_with_token(station=station)
    assert "Link my WeChat" not in client.get(_private(token), HTTP_USER_AGENT=BROWSER_UA).text
    _wechat(client)
    page = client.get(_private(token))
    assert page.status_code == 200
    assert "Link my WeChat" in page.text
    assert f'action="{_bind_url(token)}"' in page.text
    assert 'name="csrfmiddlewaretoken"' in page.text

    response = client.post(_bind_url(token, "bind_later"))
    assert response.status_code == 302 and response["Location"] == _private(token)
    assert "Link my WeChat" not in client.get(_private(token)).text
    # Another resident's page in the same browser still offers it.
    _other, other_token = registration_with_token(station=station)
    assert "Link my WeChat" in client.get(_private(other_token)).text


def test_offer_is_in_the_residents_language(client, fake_wechat, station):
    _registration, token = registration_with_token(station=station)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    page = _wechat(client).get(_private(token))
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl"' in page.text
    assert "Link my WeChat" not in page.text
    assert 'class="my-3 wechat-panel"' in page.text


def test_consent_asks_wechat_silently_with_a_state_wechat_accepts(client, fake_wechat, station):
    _registration, token = registration_with_token(station=station)
    location = _consent(_wechat(client), token)
    assert location.startswith(fake_wechat.url + "/connect/oauth2/authorize?")
    assert location.endswith("#wechat_redirect")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location.split("#")[0]).query)
    assert query["scope"] == ["snsapi_base"]
    assert query["appid"] == [fake_wechat.app_id]
    assert query["redirect_uri"] == [settings.SITE_URL + reverse("wechat:bind_return")]
    assert re.fullmatch(r"[A-Za-z0-9]{1,128}", query["state"][0])  # WeChat's rule for state
    assert token not in location  # the private link never leaves for WeChat


def test_linking_binds_the_openid_in_the_residents_language(client, fake_wechat, station):
    registration, token = registration_with_token(station=station)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    response = _link(_wechat(client), fake_wechat, token)
    assert response.status_code == 302 and response["Location"] == _private(token)
    binding = binding_for_openid(OPENID)
    assert binding.resident == registration.resident
    assert binding.language == "ko"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(_private(token))
    assert "Your WeChat is linked" in page.text
    assert f'action="{_bind_url(token, "unbind")}"' in page.text
    assert "Link my WeChat" not in page.text
    assert OPENID not in page.text


def test_consent_needs_the_csrf_token_and_a_post(fake_wechat, station):
    _registration, token = registration_with_token(station=station)
    client = _wechat(Client(enforce_csrf_checks=True))
    assert client.get(_bind_url(token)).status_code == 405
    assert client.post(_bind_url(token)).status_code == 403
    assert client.post(_bind_url(token, "unbind")).status_code == 403


def test_stranger_with_known_passport_cannot_bind_to_someone_elses_resident(
    client, fake_wechat, station
):
    victim, _victim_token = registration_with_token(station=station)
    stranger = _wechat(Client())
    # What a stranger may know (reference, document number) opens nothing.
    for guess in (victim.reference, victim.resident.document_number, "x" * 43):
        assert stranger.post(_bind_url(guess)).status_code == 404
    assert stranger.get(_private(victim.reference)).status_code == 404
    assert not WeChatBinding.objects.exists()


def test_crafted_return_url_with_another_sessions_state_is_refused(client, fake_wechat, station):
    victim, victim_token = registration_with_token(station=station)
    stranger_registration, stranger_token = registration_with_token(station=station)
    # The victim starts linking; the stranger obtains the victim's return URL and opens it
    # with their own WeChat: the state is not in the stranger's session.
    fake_wechat.authorize_as = OTHER_OPENID
    victims_return = _authorize(_consent(_wechat(client), victim_token))
    stranger = _wechat(Client())
    refused = stranger.get(victims_return)
    assert refused.status_code == 400
    assert "not valid any more" in refused.text
    # The stranger starts linking their own registration and lures the victim into the
    # return URL with the stranger's state and the victim's WeChat: refused too.
    fake_wechat.authorize_as = OPENID
    strangers_return = _authorize(_consent(stranger, stranger_token))
    victim_browser = _wechat(Client())
    assert victim_browser.get(strangers_return).status_code == 400
    assert not WeChatBinding.objects.exists()
    assert binding_for_resident(stranger_registration.resident) is None


def test_replayed_or_altered_state_links_nothing(client, fake_wechat, station):
    registration, token = registration_with_token(station=station)
    fake_wechat.authorize_as = OPENID
    back = _authorize(_consent(_wechat(client), token))
    altered = re.sub(r"state=([0-9a-f])", lambda m: "state=" + "ab"[m.group(1) == "a"], back)
    assert altered != back
    assert client.get(altered).status_code == 400
    # The altered try used the state up: the genuine return is refused as well.
    assert client.get(back).status_code == 400
    assert not WeChatBinding.objects.exists()
    # A genuine link, then its return URL again (reload, history): refused, still one.
    assert client.get(_authorize(_consent(client, token))).status_code == 302
    again = client.get(back)
    assert again.status_code == 400
    assert WeChatBinding.objects.count() == 1


def test_invalid_code_40029_gives_a_clear_message(client, fake_wechat, station):
    _registration, token = registration_with_token(station=station)
    fake_wechat.authorize_as = OPENID
    back = _authorize(_consent(_wechat(client), token))
    fake_wechat.fail_next("/sns/oauth2/access_token", 40029)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = client.get(back)
    assert response.status_code == 400
    assert '<html lang="fr"' in response.text
    assert "alert-warning" in response.text
    assert not WeChatBinding.objects.exists()


def test_wechat_unreachable_at_the_return_is_a_clear_503(client, fake_wechat, station):
    _registration, token = registration_with_token(station=station)
    fake_wechat.authorize_as = OPENID
    back = _authorize(_consent(_wechat(client), token))
    fake_wechat.stop()
    response = client.get(back)
    assert response.status_code == 503
    assert "cannot be reached" in response.text
    assert not WeChatBinding.objects.exists()


def test_unlinking_is_one_post_and_kept_in_history(client, fake_wechat, station):
    registration, token = registration_with_token(station=station)
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    page = client.get(_private(token), HTTP_USER_AGENT=BROWSER_UA)  # any browser
    assert "Unlink my WeChat" in page.text
    assert client.get(_bind_url(token, "unbind")).status_code == 405
    response = client.post(_bind_url(token, "unbind"))
    assert response.status_code == 302 and response["Location"] == _private(token)
    assert binding_for_resident(registration.resident) is None
    last = WeChatBinding.history.order_by("-history_id").first()
    assert last.history_type == "-" and last.history_change_reason == "unlinked"
    assert "no longer linked" in client.get(_private(token)).text


def test_menu_entry_opens_the_bound_residents_page_in_this_session_only(
    client, fake_wechat, station
):
    registration, token = registration_with_token(station=station)
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    _wechat(client)
    start = client.get(reverse("wechat:my"))
    assert start.status_code == 302
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(start["Location"].split("#")[0]).query)
    assert query["redirect_uri"] == [settings.SITE_URL + reverse("wechat:my")]
    assert query["scope"] == ["snsapi_base"]
    fake_wechat.authorize_as = OPENID
    session_before = client.cookies[settings.SESSION_COOKIE_NAME].value
    opened = client.get(_authorize(start["Location"]))
    assert opened.status_code == 302
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != session_before
    page = client.get(opened["Location"])
    assert page.status_code == 200
    assert registration.reference in page.text
    assert token not in page.text  # the real link is never shown
    assert OPENID not in page.text
    # The page's URL is nothing without this session.
    assert Client().get(opened["Location"]).status_code == 404
    # The real link still works.
    assert Client().get(_private(token)).status_code == 200


def test_menu_entry_for_an_unbound_wechat_explains_and_discloses_nothing(
    client, fake_wechat, station
):
    registration, _token = registration_with_token(station=station)
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    fake_wechat.authorize_as = OTHER_OPENID
    start = _wechat(client).get(reverse("wechat:my"))
    page = client.get(_authorize(start["Location"]))
    assert page.status_code == 200
    assert "not linked to a registration yet" in page.text
    assert registration.reference not in page.text
    assert registration.resident.surname not in page.text


def test_menu_entry_refuses_a_state_it_did_not_issue(client, fake_wechat, station):
    fake_wechat.authorize_as = OPENID
    response = _wechat(client).get(reverse("wechat:my"), {"code": "x", "state": "a" * 64})
    assert response.status_code == 400
    assert "expired" in response.text


def test_everything_is_off_while_wechat_is_not_configured(client, settings, station):
    settings.WECHAT_APP_ID = ""
    registration, token = registration_with_token(station=station)
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    _wechat(client)
    page = client.get(_private(token))
    assert page.status_code == 200
    assert "wechat-panel" not in page.text
    assert client.get(reverse("wechat:my")).status_code == 404
    assert client.get(reverse("wechat:bind_return"), {"state": "a", "code": "b"}).status_code == 404
    for name in ("bind_start", "bind_later", "unbind"):
        assert client.post(_bind_url(token, name)).status_code == 404
    for name in ("bind_start_offered", "bind_later_offered"):
        assert client.post(reverse(f"wechat:{name}")).status_code == 404
    assert "wechat-panel" not in client.get("/s/shipai/").text
    assert binding_for_resident(registration.resident) is not None  # nothing removed


def test_openid_is_never_logged_shown_or_exported(
    client, admin_client, fake_wechat, station, caplog
):
    registration, token = registration_with_token(station=station)
    caplog.set_level(logging.DEBUG)
    assert _link(_wechat(client), fake_wechat, token).status_code == 302
    start = client.get(reverse("wechat:my"))
    alias_page = client.get(client.get(_authorize(start["Location"]))["Location"])
    resident_id, registration_id = registration.resident.pk, registration.pk
    responses = [
        client.get(_private(token)),
        alias_page,
        client.get(_private(token, "my_data")),
        admin_client.get(reverse("admin:registration_resident_change", args=[resident_id])),
        admin_client.get(reverse("admin:registration_resident_history", args=[resident_id])),
        admin_client.get(reverse("admin:registration_registration_change", args=[registration_id])),
        admin_client.get(reverse("admin:registration_registration_export")),
        admin_client.get(reverse("admin:registration_registration_export_xlsx")),
        admin_client.get(reverse("admin:notifications_message_changelist")),
    ]
    bodies = []
    for response in responses:
        assert response.status_code == 200, response.request["PATH_INFO"]
        body = b"".join(response) if response.streaming else response.content
        assert OPENID.encode() not in body
        bodies.append(body)
    with zipfile.ZipFile(io.BytesIO(bodies[7])) as xlsx:
        for name in xlsx.namelist():
            assert OPENID.encode() not in xlsx.read(name)
    assert client.post(_bind_url(token, "unbind")).status_code == 302
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "WeChat linked to resident" in logged
    assert OPENID not in logged


STATION_URL = "/s/shipai/"


def test_station_page_offers_linking_to_the_session_its_private_page_offered(
    client, fake_wechat, station
):
    registration, token = registration_with_token(station=station)
    _wechat(client)
    # A visitor who never opened a private page here is offered nothing.
    assert "wechat-panel" not in client.get(STATION_URL).text
    assert client.post(reverse("wechat:bind_start_offered")).status_code == 404
    assert "Link my WeChat" in client.get(_private(token)).text
    page = client.get(STATION_URL)
    assert page.status_code == 200
    assert f'action="{reverse("wechat:bind_start_offered")}"' in page.text
    assert token not in page.text  # the session keeps the resident, never the link
    # Outside WeChat, or for another browser, the station page stays as everybody's.
    assert "wechat-panel" not in client.get(STATION_URL, HTTP_USER_AGENT=BROWSER_UA).text
    assert "wechat-panel" not in _wechat(Client()).get(STATION_URL).text

    fake_wechat.authorize_as = OPENID
    start = client.post(reverse("wechat:bind_start_offered"), {"next": STATION_URL})
    assert start.status_code == 302
    done = client.get(_authorize(start["Location"]))
    assert done.status_code == 302 and done["Location"] == STATION_URL
    assert binding_for_openid(OPENID).resident == registration.resident
    assert "wechat-panel" not in client.get(STATION_URL).text  # linked: offered no more


def test_station_page_offer_not_now_and_a_foreign_next(client, fake_wechat, station):
    _registration, token = registration_with_token(station=station)
    _wechat(client).get(_private(token))
    response = client.post(
        reverse("wechat:bind_later_offered"), {"next": "https://evil.example/s/x/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert "wechat-panel" not in client.get(STATION_URL).text
    assert "Link my WeChat" not in client.get(_private(token)).text  # "once", both pages
    assert client.post(reverse("wechat:bind_start_offered")).status_code == 404


def test_the_link_waits_for_wechat_encrypted_in_the_session(client, fake_wechat, station):
    _registration, token = registration_with_token(station=station)
    _consent(_wechat(client), token)
    stored = client.session.load()
    assert token not in repr(stored)  # a session row alone never gives the link away
