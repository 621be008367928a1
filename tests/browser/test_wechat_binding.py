"""
Linking WeChat from the private page on a 360 px phone in WeChat's in-app browser: the
offer, one tap, WeChat's web authorisation (the fake WeChat) and back, the linked state;
then unlinking. In English and in Arabic (right to left).
"""

import re

import pytest
from django.urls import reverse
from django.utils.csp import CSP

from tests.browser.conftest import PHONE, has_horizontal_scroll, screenshot
from tests.browser.steps import assert_accessible, click_and_wait
from tests.registration.factories import registration_with_token
from tests.wechat.conftest import fake_wechat  # noqa: F401  (the fake WeChat fixture)
from wechat.selectors import binding_for_openid, binding_for_resident
from wechat.services import binding_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPENID = "oBrowserOpenId0123456789abcd"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_link_and_unlink_wechat_from_the_private_page_on_a_phone(
    open_page,
    live_server,
    station,
    fake_wechat,  # noqa: F811  (the fixture imported above)
    settings,
    language,
):
    assert "MicroMessenger" in PHONE["user_agent"]
    # WeChat sends the resident back to SITE_URL; the page may post to WeChat's host.
    settings.SITE_URL = live_server.url
    settings.SECURE_CSP = {**settings.SECURE_CSP, "form-action": [CSP.SELF, fake_wechat.url]}
    registration, token = registration_with_token(station=station)
    fake_wechat.authorize_as = OPENID
    private = reverse("registration:private", kwargs={"token": token})
    page, traffic = open_page(language)
    # WeChat's own host is the one other place this journey goes (the fake one here).
    page.route(f"{fake_wechat.url}/**", lambda route: route.continue_())

    page.goto(live_server.url + private)
    offer = page.locator(f'form[action="{reverse("wechat:bind_start", args=[token])}"] button')
    assert offer.is_visible()
    if language == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert "Link my WeChat" not in offer.inner_text()
    assert not has_horizontal_scroll(page)
    assert_accessible(page)
    screenshot(page, f"wechat-offer-{language}")

    click_and_wait(page, offer)
    page.wait_for_url(re.compile(re.escape(private) + r"(#.*)?$"))
    binding = binding_for_openid(OPENID)
    assert binding is not None and binding.resident == registration.resident
    assert binding.language == language
    unlink = page.locator(f'form[action="{reverse("wechat:unbind", args=[token])}"] button')
    assert unlink.is_visible()
    assert offer.count() == 0
    assert OPENID not in page.content()
    assert not has_horizontal_scroll(page)
    assert_accessible(page)
    screenshot(page, f"wechat-linked-{language}")

    click_and_wait(page, unlink)
    assert binding_for_resident(registration.resident) is None
    assert unlink.count() == 0
    assert ("GET", "/connect/oauth2/authorize") in fake_wechat.requests
    assert traffic.blocked == []


def test_menu_entry_my_registration_opens_the_linked_residents_page(
    open_page,
    live_server,
    station,
    fake_wechat,  # noqa: F811  (the fixture imported above)
    settings,
):
    settings.SITE_URL = live_server.url
    registration, token = registration_with_token(station=station)
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    fake_wechat.authorize_as = OPENID
    page, traffic = open_page("en")
    page.route(f"{fake_wechat.url}/**", lambda route: route.continue_())

    page.goto(live_server.url + reverse("wechat:my"))
    page.wait_for_url(re.compile(r"/registration/r/[A-Za-z0-9_-]+/(#.*)?$"))
    assert token not in page.url  # a page of this session, not the link
    assert registration.reference in page.content()
    assert OPENID not in page.content()
    assert not has_horizontal_scroll(page)
    assert_accessible(page)
    assert traffic.blocked == []
