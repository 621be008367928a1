"""The station page's share card: what WeChat shows when the page is shared to a group."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image

pytestmark = pytest.mark.django_db

STATION_URL = "/s/shipai/"
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35) "
    "NetType/WIFI Language/zh_CN"
)
DESCRIPTION = (
    "%(name)s: register your stay within 24 hours of arrival, update your registration or "
    "ask for help, in your language."
)


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta = {}
        self.images = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("property") or attrs.get("name")):
            self.meta[attrs.get("property") or attrs.get("name")] = attrs.get("content", "")
        elif tag == "img":
            self.images.append(attrs)
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _page(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(STATION_URL, HTTP_USER_AGENT=WECHAT_UA)
    assert response.status_code == 200
    parser = _Page()
    parser.feed(response.text)
    return response, parser


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_share_card_is_in_the_sharers_language(client, station, language):
    response, page = _page(client, language)
    assert response.headers["Content-Language"] == language
    name = station.texts.get(language=settings.LANGUAGE_CODE).name
    localised = station.texts.filter(language=language).first()
    if localised is not None and localised.name:
        name = localised.name
    with translation.override(language):
        expected = gettext(DESCRIPTION) % {"name": name}
    if language != "en":
        assert expected != DESCRIPTION % {"name": name}, "not translated"
    assert page.meta["og:title"] == name
    assert page.title.startswith(name)
    assert page.meta["og:description"] == expected
    assert page.meta["description"] == expected
    assert page.meta["og:url"] == settings.SITE_URL + STATION_URL
    assert page.meta["og:image"].startswith(settings.SITE_URL + "/static/")


def test_share_icon_is_the_first_image_big_enough_and_not_display_none(client, station):
    response, page = _page(client, "en")
    first = page.images[0]
    assert first["src"].endswith(".png")
    assert page.meta["og:image"] == settings.SITE_URL + first["src"]
    assert int(first["width"]) >= 300 and int(first["height"]) >= 300
    assert first["alt"] == ""  # decorative: screen readers skip it
    assert "display" not in first.get("style", "")
    with Image.open(finders.find("img/share-icon.png")) as icon:
        assert min(icon.size) >= 300
    css = Path(finders.find("css/linli.css")).read_text(encoding="utf-8")
    rule = re.search(r"\.linli-share-image\s*\{([^}]*)\}", css).group(1)
    assert "display" not in rule and "visibility" not in rule


def test_share_card_needs_no_script_from_outside(client, station):
    response, _page_ = _page(client, "zh-hans")
    html = response.text
    assert "res.wx.qq.com" not in html
    assert "jweixin" not in html
    for src in re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html):
        assert src.startswith("/static/"), src
