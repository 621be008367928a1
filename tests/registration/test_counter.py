"""
The counter (窗口现场登记) and the official record: walk-ins registered by staff through the
public form's service, staff corrections and decisions, the 境外人员住宿登记表 and the batch
export.
"""

import csv
import io

import pypdfium2
import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook

from core.tokens import token_hash
from notifications.models import Message
from privacy.constants import AuditAction
from privacy.models import AuditEntry
from registration.admin.counter import SLIP_SESSION_KEY
from registration.constants import (
    AmendmentKind,
    EndReason,
    RegistrationSource,
    RegistrationStatus,
)
from registration.models import Registration
from registration.official_record import OFFICIAL_COLUMNS, OFFICIAL_SENSITIVE_COLUMNS
from registration.selectors import document_number_index
from stations.constants import GROUP_CITY_ADMIN
from tests.registration.factories import RegistrationFactory, form_data, photos
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
S = RegistrationStatus
CHANGELIST = reverse("admin:registration_registration_changelist")
WALK_IN = reverse("admin:registration_registration_walk_in")
CSV_EXPORT = reverse("admin:registration_registration_export")
XLSX_EXPORT = reverse("admin:registration_registration_export_xlsx")


def _url(name, registration):
    return reverse(f"admin:registration_registration_{name}", args=[registration.pk])


def _walk_in(client, station, **overrides):
    return client.post(WALK_IN, {**form_data(**overrides), "station": station.pk, **photos()})


def _search(client, term):
    response = client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def _lost_link(client, registration, number, capture):
    with capture(execute=True):
        response = client.post(
            reverse("registration:lost_link"),
            {"reference": registration.reference, "document_number": number},
        )
    assert response.status_code == 302
    registration.refresh_from_db()
    return registration.pending_token_hash


# -- walk-in --------------------------------------------------------------------
def test_officer_registers_a_walk_in_and_the_slip_shows_the_link_once(
    client, station, officer, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert WALK_IN in listing.text
    page = client.get(WALK_IN)
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = _walk_in(client, station, preferred_channel="email")
    assert response.status_code == 302, response.context["form"].errors
    registration = Registration.objects.get()
    assert response["Location"] == _url("slip", registration)
    assert registration.station == station
    assert registration.source == RegistrationSource.COUNTER
    assert registration.consent_recorded_by == officer
    assert registration.consent_given_at is not None
    assert registration.documents.count() == 3
    assert registration.amendments.get().staff_user == officer
    assert AuditEntry.objects.filter(
        action=AuditAction.DECISION, object_id=str(registration.pk), username=officer.username
    ).exists()
    # The message with the link is queued (and sent) to the resident's email as today.
    confirmation = Message.objects.get(template="registration/confirmation")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["aminata@example.org"]

    slip = client.get(response["Location"])
    assert slip.status_code == 200
    link = slip.context["link"]
    assert link and link in slip.text and "linli-slip-qr" in slip.text
    assert registration.reference in slip.text
    assert link in mail.outbox[0].body
    # Never stored raw: not in the registration, not in the session after the slip.
    raw = link.rstrip("/").rsplit("/", 1)[-1]
    assert registration.token_hash == token_hash(raw) != raw
    assert SLIP_SESSION_KEY not in client.session
    again = client.get(response["Location"])
    assert again.status_code == 200
    assert link not in again.text and "linli-slip-qr" not in again.text
    assert confirmation.pk


def test_walk_in_without_the_residents_consent_is_refused_keeping_what_was_typed(
    client, station, officer
):
    client.force_login(officer)
    response = _walk_in(client, station, consent=None, surname="Okafor")
    assert response.status_code == 400
    assert response.context["form"].errors["consent"]
    assert 'value="Okafor"' in response.text
    assert not Registration.objects.exists()


def test_officer_cannot_register_a_walk_in_at_another_station(
    client, station, other_station, officer
):
    client.force_login(officer)
    response = _walk_in(client, other_station)
    assert response.status_code == 400
    assert response.context["form"].errors["station"]
    assert not Registration.objects.exists()


def test_staff_without_a_station_get_no_walk_in_page(client, station):
    nobody = StaffUserFactory()
    client.force_login(nobody)
    assert client.get(WALK_IN).status_code == 403


def test_another_stations_officer_gets_404_on_every_counter_page(client, station, other_officer):
    registration = RegistrationFactory(station=station)
    client.force_login(other_officer)
    for name in ("slip", "correct", "end", "send_link", "record"):
        assert client.get(_url(name, registration)).status_code == 404, name
        assert client.post(_url(name, registration), {"message": "x"}).status_code == 404, name
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED
    assert registration.pending_token_hash is None


# -- corrections and decisions ---------------------------------------------------
def _correction(page, **changes):
    form = page.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = str(value)
    data["note"] = "typo, checked against the passport"
    data.update(changes)
    return data


def test_officer_corrects_the_passport_number_and_search_and_lost_link_follow(
    client, station, officer, django_capture_on_commit_callbacks
):
    registration = RegistrationFactory(station=station, resident__document_number="C1234567")
    client.force_login(officer)
    page = client.get(_url("correct", registration))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("correct", registration), _correction(page, document_number="C7654321")
        )
    assert response.status_code == 302, response.context["form"].errors
    resident = registration.resident
    resident.refresh_from_db()
    assert resident.document_number == "C7654321"
    assert resident.document_number_index == document_number_index("C7654321")
    assert resident.history.latest().history_user == officer
    assert "document_number" in resident.history.latest().history_change_reason
    corrected = registration.amendments.get(kind=AmendmentKind.STAFF_CORRECTED)
    assert (corrected.staff_user, corrected.message) == (officer, "document_number")
    audit = AuditEntry.objects.get(action=AuditAction.DECISION, object_id=str(registration.pk))
    assert "document_number" in audit.detail and "C7654321" not in audit.detail
    assert Message.objects.filter(template="registration/staff_corrected").exists()

    assert _search(client, "C7654321") == [registration]
    assert _search(client, "C1234567") == []
    public = client.__class__()
    assert _lost_link(public, registration, "C1234567", django_capture_on_commit_callbacks) is None
    assert _lost_link(public, registration, "C7654321", django_capture_on_commit_callbacks)


def test_city_admin_editing_the_passport_number_keeps_search_and_lost_link_in_step(
    client, station, django_capture_on_commit_callbacks
):
    registration = RegistrationFactory(station=station, resident__document_number="C1234567")
    resident = registration.resident
    city = StaffUserFactory()
    city.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    client.force_login(city)
    url = reverse("admin:registration_resident_change", args=[resident.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = value if isinstance(value, list) else str(value)
    data["document_number"] = "C7654321"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert _search(client, "C7654321") == [registration]
    assert _search(client, "C1234567") == []
    public = client.__class__()
    assert _lost_link(public, registration, "C1234567", django_capture_on_commit_callbacks) is None
    assert _lost_link(public, registration, "C7654321", django_capture_on_commit_callbacks)


def test_correction_with_a_malformed_number_is_refused_keeping_what_was_typed(
    client, station, officer
):
    registration = RegistrationFactory(station=station, resident__document_number="C1234567")
    client.force_login(officer)
    page = client.get(_url("correct", registration))
    response = client.post(
        _url("correct", registration), _correction(page, document_number="C76-54 321!")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["document_number"]
    assert "C76-54 321!" in response.text
    registration.resident.refresh_from_db()
    assert registration.resident.document_number == "C1234567"


def test_officer_ends_a_stay_with_a_reason_the_resident_reads(
    client, station, officer, django_capture_on_commit_callbacks
):
    registration = RegistrationFactory(station=station, status=S.REGISTERED)
    client.force_login(officer)
    assert client.get(_url("end", registration)).status_code == 200
    assert client.post(_url("end", registration), {"message": " "}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("end", registration), {"message": "The landlord says you moved out."}
        )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.ENDED
    assert registration.end_reason == EndReason.STAFF
    assert registration.history.latest().history_user == officer
    assert AuditEntry.objects.filter(
        action=AuditAction.DECISION, object_id=str(registration.pk)
    ).exists()
    assert len(mail.outbox) == 1
    assert "The landlord says you moved out." in mail.outbox[0].body


def test_officer_sends_a_new_link_to_the_contact_on_file(
    client, station, officer, django_capture_on_commit_callbacks
):
    registration = RegistrationFactory(station=station, resident__email="on-file@example.org")
    old_hash = registration.token_hash
    client.force_login(officer)
    assert client.get(_url("send_link", registration)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("send_link", registration))
    assert response.status_code == 302
    registration.refresh_from_db()
    # Pending until opened: the old link still works, as with the lost-link form.
    assert registration.pending_token_hash and registration.token_hash == old_hash
    assert [m.to for m in mail.outbox] == [["on-file@example.org"]]
    assert AuditEntry.objects.filter(
        action=AuditAction.MESSAGE, object_id=str(registration.pk), username=officer.username
    ).exists()


# -- the official record ------------------------------------------------------------
def _pdf_text(content: bytes) -> str:
    pdf = pypdfium2.PdfDocument(content)
    try:
        return "".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def test_official_record_pdf_has_every_label_and_value(client, station, officer):
    registration = RegistrationFactory(
        station=station,
        resident__chinese_name="艾米娜",
        resident__document_number="C1234567",
        port_of_entry="广州白云",
        address="石牌西路3栋501",
    )
    client.force_login(officer)
    response = client.get(_url("record", registration))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    for label in (
        "境外人员住宿登记表",
        "姓名（英文）",
        "姓名（中文）",
        "性别",
        "出生日期",
        "国籍",
        "证件种类",
        "证件号码",
        "证件有效期",
        "签证/居留许可种类",
        "签证/居留许可号码",
        "签证/居留许可有效期",
        "入境日期",
        "入境口岸",
        "抵达本住址时间",
        "预计离开日期",
        "停留事由",
        "住址",
        "留宿人/房东",
        "留宿人/房东电话",
        "服务站",
        "登记民警/工作人员",
        "登记日期",
    ):
        assert label in text, label
    for value in (
        registration.reference,
        registration.resident.surname,
        "艾米娜",
        "女",
        "1999-04-12",
        "塞内加尔",
        "C1234567",
        registration.visa_number,
        "广州白云",
        "石牌西路3栋501",
        "Wang Fang",
        station.name,
    ):
        assert value in text, value
    assert AuditEntry.objects.filter(
        action=AuditAction.EXPORT, object_id=str(registration.pk)
    ).exists()


def _csv(response):
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_batch_export_csv_and_xlsx_have_the_police_columns_and_the_same_rows(
    client, station, other_station, officer
):
    mine = RegistrationFactory(station=station, address="石牌西路3栋501")
    RegistrationFactory(station=other_station)
    officer.user_permissions.add(Permission.objects.get(codename="export_document_numbers"))
    client.force_login(officer)
    rows = _csv(client.get(CSV_EXPORT))
    headers = [label for label, _accessor in OFFICIAL_COLUMNS + OFFICIAL_SENSITIVE_COLUMNS]
    assert rows[0] == headers
    assert len(rows) == 2  # one row per person, this station only
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["登记编号"] == mine.reference
    assert row["性别"] == "女"
    assert row["出生日期"] == "1999-04-12"
    assert row["国籍代码"] == "SEN"
    assert row["住址"] == "石牌西路3栋501"
    assert row["证件号码"] == mine.resident.document_number
    # Local time (Asia/Shanghai), to the minute.
    from core.times import format_local

    assert row["抵达本住址时间"] == format_local(mine.arrival_at)

    response = client.get(XLSX_EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    xlsx_rows = [[cell or "" for cell in line] for line in sheet.iter_rows(values_only=True)]
    assert xlsx_rows == rows
    exports = AuditEntry.objects.filter(action=AuditAction.EXPORT)
    assert exports.count() == 2
    assert {e.station_id for e in exports} == {station.pk}


def test_batch_export_without_the_permission_has_no_document_numbers(client, station, officer):
    mine = RegistrationFactory(station=station)
    client.force_login(officer)
    rows = _csv(client.get(CSV_EXPORT))
    assert "证件号码" not in rows[0]
    flat = ",".join(",".join(row) for row in rows)
    assert mine.resident.document_number not in flat
    sheet = load_workbook(io.BytesIO(client.get(XLSX_EXPORT).content), read_only=True).active
    cells = [str(c) for line in sheet.iter_rows(values_only=True) for c in line if c]
    assert mine.resident.document_number not in cells


def test_correction_without_a_change_writes_nothing(client, station, officer):
    registration = RegistrationFactory(station=station)
    client.force_login(officer)
    page = client.get(_url("correct", registration))
    response = client.post(_url("correct", registration), _correction(page))
    assert response.status_code == 302
    assert not registration.amendments.filter(kind=AmendmentKind.STAFF_CORRECTED).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.DECISION).exists()


def test_walk_in_with_a_forged_station_value_is_a_form_error_not_a_500(client, station, officer):
    client.force_login(officer)
    for forged in ("abc", "-1", "1 OR 1=1", "9999999999999999999999"):
        response = client.post(WALK_IN, {**form_data(), "station": forged, **photos()})
        assert response.status_code == 400, forged
        assert response.context["form"].errors["station"]
    assert not Registration.objects.exists()


def test_ending_an_ended_stay_again_is_a_message_not_a_500(client, station, officer):
    registration = RegistrationFactory(station=station, status=S.ENDED)
    client.force_login(officer)
    response = client.post(_url("end", registration), {"message": "Again."}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not AuditEntry.objects.filter(action=AuditAction.DECISION).exists()


def test_batch_export_reads_the_database_a_fixed_number_of_times(
    client, station, officer, django_assert_max_num_queries
):
    for _ in range(3):
        RegistrationFactory(station=station, decided_by=officer)
    client.force_login(officer)
    with django_assert_max_num_queries(30) as few:
        _csv(client.get(CSV_EXPORT))
    for _ in range(10):
        RegistrationFactory(station=station, decided_by=officer, consent_recorded_by=officer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        _csv(client.get(CSV_EXPORT))
