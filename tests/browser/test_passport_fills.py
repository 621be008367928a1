"""
A first registration on a 360 px phone: the passport photo fills the identity fields for
the resident to check (the machine-readable zone read by the worker, the page polling).
"""

import pytest

from tests.browser.conftest import screenshot
from tests.registration.mrz_corpus import clean_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_passport_photo_fills_the_form(open_page, live_server, station, tmp_path, language):
    data, truth = clean_photo()
    photo = tmp_path / "passport.jpg"
    photo.write_bytes(data)
    page, _traffic = open_page(language)
    response = page.goto(f"{live_server.url}/s/{station.code}/register/")
    assert response.status == 200

    page.locator('input[type="file"][name="passport_page"]').set_input_files(str(photo))
    surname = page.locator('input[name="surname"]')
    page.wait_for_function("el => el.value !== ''", arg=surname.element_handle(), timeout=60_000)
    assert surname.input_value() == truth["surname"]
    assert page.locator('input[name="document_number"]').input_value() == truth["document_number"]
    assert page.locator("#linli-passport-reading").is_visible()
    screenshot(page, f"passport-fills-{language}")
