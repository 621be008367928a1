"""
The official record of a registration: the 境外人员住宿登记表 (accommodation registration
form of a person from outside the mainland) as an A4 PDF, and the batch export of the
registrations a filter selects, in the police system's columns, as CSV and XLSX.

The record is the police's form, so its labels and coded values are always Simplified
Chinese, whatever language the officer reads the admin in; they are fixed text of the
form, not interface strings. Dates are ISO, times local to the minute
(``core.times.format_local``). docs/official-record.md lists every column and its source.
"""

import io
from collections.abc import Callable, Iterable

from django.utils import translation
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from core.countries import country_name
from core.times import format_local
from registration.models import Registration
from stations.typesetting import SC, pdf_font_register

OFFICIAL_LANGUAGE = "zh-hans"
TITLE = "境外人员住宿登记表"


def _zh(obj, field: str) -> str:
    """Return the label of ``obj``'s choice ``field`` in the record's language."""
    # get_FOO_display() renders in the language active when it is called.
    with translation.override(OFFICIAL_LANGUAGE):
        return str(getattr(obj, f"get_{field}_display")())


def _nationality(registration: Registration) -> str:
    code = registration.resident.nationality.code
    with translation.override(OFFICIAL_LANGUAGE):
        return country_name(code) if code else ""


def _nationality_code(registration: Registration) -> str:
    # The police system codes nationality with the three letters of GB/T 2659 (ISO 3166).
    return registration.resident.nationality.alpha3 or ""


def _officer(registration: Registration) -> str:
    """Return who registered the stay: the deciding officer, else who took it at the counter."""
    user = registration.decided_by or registration.consent_recorded_by
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _host_phone(registration: Registration) -> str:
    return str(registration.host_phone or "")


# (label, accessor). The order is the police system's import order.
OFFICIAL_COLUMNS: list[tuple[str, str | Callable]] = [
    ("登记编号", "reference"),
    ("英文姓", "resident.surname"),
    ("英文名", "resident.given_names"),
    ("中文姓名", "resident.chinese_name"),
    ("性别", lambda r: _zh(r.resident, "sex")),
    ("出生日期", "resident.date_of_birth"),
    ("国籍代码", _nationality_code),
    ("国籍", _nationality),
    ("证件种类", lambda r: _zh(r.resident, "document_type")),
    ("证件有效期", "resident.document_expiry"),
    ("签证/居留许可种类", lambda r: _zh(r, "visa_type")),
    ("签证/居留许可有效期", "visa_valid_until"),
    ("入境日期", "entry_date"),
    ("入境口岸", "port_of_entry"),
    ("抵达本住址时间", "arrival_at"),
    ("预计离开日期", "expected_departure"),
    ("停留事由", lambda r: _zh(r, "stay_reason")),
    ("工作单位/学校", "school_or_employer"),
    ("住址", "address"),
    ("住宿类型", lambda r: _zh(r, "accommodation_type")),
    ("留宿人/房东", "host_name"),
    ("留宿人/房东电话", _host_phone),
    ("本人电话", lambda r: str(r.resident.phone or "")),
    ("服务站", lambda r: r.station.name),
    ("登记状态", lambda r: _zh(r, "status")),
    ("登记方式", lambda r: _zh(r, "source")),
    ("登记民警/工作人员", _officer),
    ("登记日期", "submitted_at"),
]
# Written only for users with the sensitive-export permission (privacy.export).
OFFICIAL_SENSITIVE_COLUMNS: list[tuple[str, str | Callable]] = [
    ("证件号码", "resident.document_number"),
    ("签证/居留许可号码", "visa_number"),
]


def official_xlsx(rows: Iterable[list[str]]) -> bytes:
    """
    Return ``rows`` (header first, cells as ``core.export.csv_rows`` writes them: local
    times, formula characters escaped) as an XLSX workbook of one sheet.
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(TITLE)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _fields(registration: Registration) -> list[tuple[str, str]]:
    """Return the form's ``(label, value)`` pairs, in the order printed."""
    r, person = registration, registration.resident
    name = f"{person.surname} {person.given_names}".strip()
    visa_number = r.visa_number or ""
    return [
        ("姓名（英文）", name),
        ("姓名（中文）", person.chinese_name),
        ("性别", _zh(person, "sex")),
        ("出生日期", format_local(person.date_of_birth)),
        ("国籍", f"{_nationality(r)} {_nationality_code(r)}".strip()),
        ("证件种类", _zh(person, "document_type")),
        ("证件号码", person.document_number),
        ("证件有效期", format_local(person.document_expiry)),
        ("签证/居留许可种类", _zh(r, "visa_type")),
        ("签证/居留许可号码", visa_number),
        ("签证/居留许可有效期", format_local(r.visa_valid_until)),
        ("入境日期", format_local(r.entry_date)),
        ("入境口岸", r.port_of_entry),
        ("抵达本住址时间", format_local(r.arrival_at)),
        ("预计离开日期", format_local(r.expected_departure)),
        ("停留事由", _zh(r, "stay_reason")),
        ("工作单位/学校", r.school_or_employer),
        ("住址", r.address),
        ("住宿类型", _zh(r, "accommodation_type")),
        ("留宿人/房东", r.host_name),
        ("留宿人/房东电话", _host_phone(r)),
        ("本人电话", str(person.phone or "")),
        ("服务站", r.station.name),
        ("登记民警/工作人员", _officer(r)),
        ("登记日期", format_local(r.submitted_at)),
        ("登记编号", r.reference),
    ]


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (character by character: CJK)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line = [], ""
    for char in text.replace("\r", ""):
        if char == "\n":
            lines.append(line)
            line = ""
            continue
        if stringWidth(line + char, font, size) > width and line:
            lines.append(line)
            line = char
        else:
            line += char
    lines.append(line)
    return lines


def official_record_pdf(registration: Registration) -> bytes:
    """
    Return ``registration`` printed as the 境外人员住宿登记表: one A4 page, a two-column
    table of every official field, the text embedded (extractable) in Noto Sans SC.
    """
    font = pdf_font_register(SC)
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1)
    page.setTitle(f"{TITLE} {registration.reference}")
    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    label_width = 48 * mm
    size, leading = 10.5, 15
    y = height - 22 * mm
    page.setFont(font, 18)
    page.drawCentredString(width / 2, y, TITLE)
    y -= 10 * mm
    page.setFont(font, 9)
    page.drawRightString(right, y, f"登记编号：{registration.reference}")
    y -= 4 * mm
    for label, value in _fields(registration):
        lines = _wrap(value or "", font, size, right - left - label_width - 4 * mm)
        row = max(1, len(lines)) * leading + 6
        page.rect(left, y - row, label_width, row)
        page.rect(left + label_width, y - row, right - left - label_width, row)
        page.setFont(font, size)
        page.drawString(left + 2 * mm, y - leading + 1, label)
        for index, line in enumerate(lines):
            page.drawString(left + label_width + 2 * mm, y - leading * (index + 1) + 1, line)
        y -= row
    y -= 12 * mm
    page.setFont(font, size)
    page.drawString(left, y, "登记民警/工作人员签名：")
    page.drawString(left + 95 * mm, y, "境外人员签名：")
    page.showPage()
    page.save()
    return out.getvalue()
