"""
The counter for real, in the Chinese admin on a desktop: a walk-in registered with the
resident at the desk, the slip's QR code read back, a typo in the passport number corrected
and then found by the new number only, the official record printed and its text read back,
a batch export opened and checked column by column.
"""

import csv
import io
import re

import pypdfium2
import pytest
from django.core import mail
from openpyxl import load_workbook

from registration.constants import RegistrationSource
from registration.models import Registration
from registration.official_record import OFFICIAL_COLUMNS
from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.steps import click_and_wait, fill_form, jpeg_file, qr_codes_in, staff_login
from tests.registration.factories import form_data
from tests.stations.factories import StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHANGELIST = "/admin/registration/registration/"


def _results(page, live_server, term):
    page.goto(f"{live_server.url}{CHANGELIST}?q={term}")
    return [a.inner_text() for a in page.locator("#result_list tbody th a").all()]


def test_walk_in_correction_record_and_export_in_the_chinese_admin(
    open_page, live_server, station, tmp_path
):
    officer = StaffUserFactory(username="officer", station=station)
    page, traffic = open_page("zh-hans", device=DESKTOP)
    staff_login(page, live_server, officer, next_path=CHANGELIST)

    # Walk-in: the officer fills the public form's fields with the resident, uploads the
    # documents and records the consent.
    click_and_wait(page, page.get_by_role("link", name="窗口现场登记"))
    data = form_data(document_number="C1234567", preferred_language="zh-hans")
    data.pop("website")
    data["station"] = str(station.pk)
    fill_form(page, data, scope="#content form")
    for kind, color in (("passport_page", "navy"), ("visa_page", "green"), ("entry_stamp", "red")):
        page.locator(f'#content form [name="{kind}"]').set_input_files(
            jpeg_file(tmp_path, f"{kind}.jpg", color)
        )
    click_and_wait(page, page.locator("#content form input[type=submit]"))
    page.wait_for_url(re.compile(r"/admin/registration/registration/\d+/slip/$"))
    registration = Registration.objects.get()
    assert registration.source == RegistrationSource.COUNTER
    assert registration.consent_recorded_by == officer
    # The slip: the link printed and in its QR code, the same as in the resident's email.
    link = page.locator(".linli-slip-link").inner_text()
    assert qr_codes_in(page.locator(".linli-slip-qr svg").screenshot()) == [link]
    assert link in mail.outbox[-1].body
    screenshot(page, "counter-slip-zh-hans")

    # A typo in the passport number, corrected by the officer.
    page.goto(f"{live_server.url}{CHANGELIST}{registration.pk}/change/")
    click_and_wait(page, page.get_by_role("link", name="更正…"))
    page.locator("#id_document_number").fill("C7654321")
    page.locator("#id_note").fill("护照号码录入错误，已核对护照原件")
    click_and_wait(page, page.locator("#content form input[type=submit]"))
    assert page.locator("ul.messagelist li").first.is_visible()
    assert _results(page, live_server, "C7654321") == [registration.reference]
    assert _results(page, live_server, "C1234567") == []

    # The official record, its text read back.
    pdf = page.request.get(f"{live_server.url}{CHANGELIST}{registration.pk}/record.pdf")
    assert pdf.status == 200
    document = pypdfium2.PdfDocument(pdf.body())
    text = "".join(p.get_textpage().get_text_range() for p in document)
    document.close()
    for expected in ("境外人员住宿登记表", "证件号码", "C7654321", registration.reference):
        assert expected in text
    assert "C1234567" not in text

    # The batch export, column by column, CSV and XLSX alike.
    csv_response = page.request.get(f"{live_server.url}{CHANGELIST}export.csv")
    assert csv_response.status == 200 and csv_response.body().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_response.body().decode("utf-8-sig"))))
    assert rows[0] == [label for label, _accessor in OFFICIAL_COLUMNS]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["登记编号"] == registration.reference
    assert row["英文姓"] == "Diallo" and row["性别"] == "女"
    assert row["国籍代码"] == "SEN" and row["登记方式"] == "窗口现场登记"
    assert row["登记民警/工作人员"] == officer.get_username()
    xlsx = page.request.get(f"{live_server.url}{CHANGELIST}export.xlsx")
    assert xlsx.status == 200
    sheet = load_workbook(io.BytesIO(xlsx.body()), read_only=True).active
    assert [[c or "" for c in line] for line in sheet.iter_rows(values_only=True)] == rows
    assert traffic.blocked == []
