"""Steps the browser scenarios share: QR codes, photos, filling forms, reading emails."""

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import zxingcpp
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from PIL import Image

from registration.models import Registration
from tests.browser.conftest import ACCEPT_LANGUAGE, axe_violations, has_horizontal_scroll
from tests.registration.factories import form_data, photos


def live_url(live_server, url: str) -> str:
    """The same path and query on the live server (QR codes and emails carry SITE_URL)."""
    parts = urlsplit(url)
    assert url.startswith(settings.SITE_URL), url
    return live_server.url + parts.path + (f"?{parts.query}" if parts.query else "")


def qr_codes_in(png: bytes) -> list[str]:
    """Decode every QR code of a PNG, as a phone's camera would."""
    image = Image.open(io.BytesIO(png))
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def jpeg_file(directory: Path, name: str, color: str) -> Path:
    """A small real JPEG, like a phone's photo of a document page."""
    path = directory / name
    Image.new("RGB", (640, 480), color).save(path, "JPEG", quality=80)
    return path


def click_and_wait(page, target) -> None:
    """Click a link or button and wait for the page it loads (never act on the old one)."""
    with page.expect_navigation():
        target.click()


def fill_form(page, data: dict, *, scope: str = "form") -> None:
    """Fill fields by name whatever their widget: text, date, select, radio, checkbox."""
    for name, value in data.items():
        fields = page.locator(f'{scope} [name="{name}"]')
        if fields.count() == 0:
            raise AssertionError(f"no field named {name!r} on {page.url}")
        first = fields.first
        kind = first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind == "select:select-one":
            first.select_option(value)
        elif kind == "input:radio":
            page.locator(f'{scope} [name="{name}"][value="{value}"]').check()
        elif kind == "input:checkbox":
            if value in ("on", True, "true", "yes"):
                first.check()
            else:
                first.uncheck()
        elif kind == "input:hidden":
            continue
        else:
            first.fill(value)


def links_in_last_email(path_prefix: str) -> list[str]:
    """The site's links of a kind in the newest email (the live server shares our process)."""
    assert mail.outbox, "no email was sent"
    body = mail.outbox[-1].body
    return re.findall(rf"{re.escape(settings.SITE_URL)}/{path_prefix}/[A-Za-z0-9_-]+/", body)


def assert_public_page_fits(page) -> None:
    """A public page on a 360 px phone: no sideways scrolling, nothing serious for axe."""
    assert not has_horizontal_scroll(page), f"horizontal scroll on {page.url}"


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"


STAFF_PASSWORD = "correct horse battery"  # tests.stations.factories.UserFactory's


def staff_login(page, live_server, user, *, next_path: str = "/admin/") -> None:
    """Log in through the admin's real login form, then land on ``next_path``."""
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.locator("#id_username").fill(user.get_username())
    page.locator("#id_password").fill(STAFF_PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(f"{live_server.url}{next_path}")


def registration_submitted_through_the_form(station, language: str) -> Registration:
    """A registration sent as test_journey sends it; the confirmation email goes out."""
    client = Client(HTTP_ACCEPT_LANGUAGE=ACCEPT_LANGUAGE[language])
    url = reverse("registration:register", args=[station.code])
    data = form_data(preferred_language=language)
    assert client.post(url, {**data, **photos()}).status_code == 200
    assert client.post(url, {**data, "step": "submit"}).status_code == 302
    return Registration.objects.order_by("-pk").first()
