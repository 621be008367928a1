"""The home page on a phone: offline, accessible, no sideways scrolling."""

import pytest

from tests.browser.conftest import axe_violations, has_horizontal_scroll, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_home_page_on_a_phone(open_page, live_server, station, language):
    page, traffic = open_page(language)
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == language
    assert page.get_by_role("heading", level=1).is_visible()
    assert not has_horizontal_scroll(page)
    assert traffic.blocked == []
    assert axe_violations(page) == []
    screenshot(page, f"home-{language}")
