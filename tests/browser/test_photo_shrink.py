"""
Photos shrink on the phone before they are sent: three 12-megapixel photos over a 750 kbps
uplink, with and without the shrinking script; then the receipt's countdown and copy button.

The figures (bytes sent, seconds to the review page) are printed; run with ``-s`` to see
them. ``LINLI_MEASURE_BEFORE=1`` also times the form without JavaScript (about two
minutes at 750 kbps), the "before" of the measurement.
"""

import datetime
import io
import os
import re
import time

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageFilter

from registration.constants import RegistrationStatus
from registration.documents import document_file_read
from registration.models import Registration
from tests.browser.conftest import PHONE
from tests.browser.steps import assert_public_page_fits, fill_form
from tests.registration.factories import form_data, registration_with_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UPLINK_BYTES_PER_SECOND = 750 * 1024 / 8
KINDS = ("passport_page", "visa_page", "entry_stamp")


def _phone_photo(seed: int) -> bytes:
    """A 4000×3000 JPEG of about 3–4 MB: coarse structure plus sensor grain, like a camera's."""
    base = Image.effect_noise((500, 375), 90).filter(ImageFilter.GaussianBlur(2))
    base = base.resize((4000, 3000), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((4000, 3000), 16 + seed)
    bands = [
        Image.blend(base, grain, 0.5),
        Image.blend(base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grain, 0.5),
        Image.blend(base.transpose(Image.Transpose.FLIP_TOP_BOTTOM), grain, 0.5),
    ]
    out = io.BytesIO()
    Image.merge("RGB", bands).save(out, "JPEG", quality=86)
    return out.getvalue()


@pytest.fixture(scope="module")
def phone_photos(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("phone")
    paths = {}
    for seed, kind in enumerate(KINDS):
        path = directory / f"IMG_000{seed}.jpg"
        path.write_bytes(_phone_photo(seed))
        paths[kind] = path
    return paths


def _slow_uplink(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 100,
            "downloadThroughput": -1,
            "uploadThroughput": UPLINK_BYTES_PER_SECOND,
        },
    )


def _answers() -> dict:
    data = form_data(preferred_language="en")
    data.pop("website")
    return data


def _body_bytes(request) -> int:
    """The bytes a POST carried (Chromium reports no body size for a native file upload)."""
    size = request.sizes()["requestBodySize"]
    return size or int(request.all_headers().get("content-length", 0))


def _send_photos(page, live_server, station, photos, *, scripts=True) -> tuple[int, float, float]:
    """
    Fill the form, choose the photos, send; return the request bytes sent, the seconds from
    the tap on the button to the review, and from choosing the photos to the review.
    """
    posts = []
    page.on("requestfinished", lambda r: posts.append(r) if r.method == "POST" else None)
    page.goto(live_server.url + reverse("registration:register", args=[station.code]))
    _slow_uplink(page)
    fill_form(page, _answers())
    chosen = time.monotonic()
    for kind, path in photos.items():
        page.set_input_files(f'input[type=file][name="{kind}"]', str(path))
    if scripts:
        # The passport photo goes ahead (to be read) once shrunk; a resident waits for it too.
        page.locator("#linli-passport-received").wait_for(timeout=120_000)
    started = time.monotonic()
    page.locator("form.linli-registration-form button[type=submit]").click()
    page.locator("button[name=step][value=submit]").wait_for(timeout=300_000)
    done = time.monotonic()
    sent = sum(_body_bytes(r) for r in posts)
    return sent, done - started, done - chosen


def test_three_phone_photos_shrink_and_the_review_comes_fast(
    browser, open_page, live_server, station, phone_photos
):
    original = sum(path.stat().st_size for path in phone_photos.values())
    page, traffic = open_page("en")
    sent, seconds, total = _send_photos(page, live_server, station, phone_photos)
    print(
        f"\nthree 12 MP photos: {original / 1e6:.1f} MB chosen; with shrinking "
        f"{sent / 1e6:.2f} MB sent, review {seconds:.1f} s after the tap "
        f"({total:.1f} s after choosing the photos) at 750 kbps up"
    )
    assert sent < original / 4
    assert page.url.endswith(reverse("registration:register", args=[station.code]))
    assert page.locator("img.linli-thumb").count() == len(KINDS)
    # The thumbnails shown are the 256 px ones made when the photos were stored.
    for _ in range(150):  # until they are loaded (the page was written by the script)
        widths = page.locator("img.linli-thumb").evaluate_all(
            "images => images.map(img => Math.max(img.naturalWidth, img.naturalHeight))"
        )
        if all(widths):
            break
        time.sleep(0.2)
    assert widths == [256] * len(KINDS), widths
    assert_public_page_fits(page)

    # Sent: the receipt counts down to the deadline and copies the private link.
    page.locator("button[name=step][value=submit]").click()
    page.wait_for_url(re.compile(r"/registration/receipt/$"))
    registration = Registration.objects.get()
    assert registration.documents.count() == len(KINDS)
    stored = [
        Image.open(io.BytesIO(document_file_read(name=doc.file.name))).size
        for doc in registration.documents.all()
    ]
    assert all(max(size) <= settings.REGISTRATION_IMAGE_MAX_SIDE for size in stored), stored
    # What Chromium's canvas wrote is kept as sent (no JFIF or other segment: core/jpeg.py),
    # not decoded and encoded a second time (Pillow would write a JFIF segment first).
    for doc in registration.documents.all():
        data = document_file_read(name=doc.file.name)
        assert data.startswith(b"\xff\xd8") and b"JFIF" not in data[:64] and b"Exif" not in data
    countdown = page.locator("[data-linli-countdown] .linli-countdown-text")
    assert countdown.is_visible()
    assert re.fullmatch(r"\d+ h \d+ min left", countdown.inner_text().strip())
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    copy = page.locator("[data-linli-copy]")
    assert copy.is_visible()
    copy.click()
    link = page.locator("#linli-private-link").get_attribute("href")
    page.locator("[data-linli-copy-status]").filter(has_text=re.compile(".")).wait_for()
    if page.evaluate("() => window.isSecureContext"):
        assert page.evaluate("() => navigator.clipboard.readText()") == link
    else:  # the fallback: the link is selected for the phone's own Copy
        assert page.evaluate("() => String(window.getSelection())") == link
    assert_public_page_fits(page)
    assert traffic.blocked == []

    if os.environ.get("LINLI_MEASURE_BEFORE") != "1":
        return
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        before_page = context.new_page()
        context.set_default_timeout(300_000)
        before, before_seconds, _ = _send_photos(
            before_page, live_server, station, phone_photos, scripts=False
        )
    finally:
        context.close()
    print(
        f"without JavaScript (as before): {before / 1e6:.2f} MB sent, "
        f"review after {before_seconds:.1f} s at 750 kbps up"
    )
    assert before > original


@pytest.mark.parametrize(
    ("language", "left"),
    [("en", r"\d+ h \d+ min left"), ("zh-hans", r"剩余 \d+ 小时 \d+ 分钟")],
)
def test_error_summary_takes_the_focus_and_the_private_page_counts_down(
    open_page, live_server, station, language, left
):
    page, traffic = open_page(language)
    page.goto(live_server.url + reverse("registration:register", args=[station.code]))
    with page.expect_navigation():
        page.locator("form.linli-registration-form button[type=submit]").click()
    assert page.evaluate("() => document.activeElement.id") == "form-errors"

    _registration, token = registration_with_token(
        station=station, status=RegistrationStatus.CORRECTION_REQUESTED
    )
    page.goto(live_server.url + reverse("registration:private", kwargs={"token": token}))
    countdown = page.locator("[data-linli-countdown] .linli-countdown-text")
    assert countdown.is_visible()
    assert re.fullmatch(left, countdown.inner_text().strip())
    assert_public_page_fits(page)
    assert traffic.blocked == []


def test_update_form_sends_the_shrunk_photo_and_follows_the_redirect(
    open_page, live_server, station, phone_photos
):
    _registration, token = registration_with_token(
        station=station, status=RegistrationStatus.REGISTERED
    )
    page, traffic = open_page("en")
    posts = []
    page.on("requestfinished", lambda r: posts.append(r) if r.method == "POST" else None)
    page.goto(live_server.url + reverse("registration:update_document", kwargs={"token": token}))
    expiry = (timezone.localdate() + datetime.timedelta(days=3000)).isoformat()
    fill_form(
        page,
        {"document_type": "passport", "document_number": "E98765432", "document_expiry": expiry},
        scope="main form",
    )
    page.set_input_files('input[type=file][name="passport_page"]', str(phone_photos["visa_page"]))
    page.locator("main form button[type=submit]").click()
    # The answer of the redirect is on screen, and the address bar shows where it came from.
    page.wait_for_url(re.compile(r"/registration/r/[^/]+/$"))
    assert "new travel document" in page.locator(".linli-messages").inner_text()
    assert len(posts) == 1
    assert _body_bytes(posts[0]) < phone_photos["visa_page"].stat().st_size / 4
    assert traffic.blocked == []
