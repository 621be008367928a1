"""CSV exports open right in Excel: UTF-8 with a byte-order mark, times in local time."""

import csv
import datetime
import io

import pytest
import time_machine
from django.contrib.auth.models import Group

from core.export import csv_lines, csv_rows
from core.times import format_local
from privacy.constants import AuditAction
from privacy.models import AuditEntry
from privacy.services import audit_record
from stations.constants import GROUP_CITY_ADMIN
from tests.stations.factories import StaffUserFactory

ADDRESS = "广州市天河区石牌街道华师路12号3栋502房"
# The example: 15:06 UTC on the 28th is 23:06 in Guangzhou, still the 28th...
AT = datetime.datetime(2026, 11, 28, 15, 6, 41, 944294, tzinfo=datetime.UTC)
# ...and 16:30 UTC is already the next day there.
LATE = datetime.datetime(2026, 11, 28, 16, 30, 5, 120000, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_export_starts_with_a_byte_order_mark_and_writes_local_minutes(client, station):
    for moment, detail in ((AT, ADDRESS), (LATE, "late")):
        with time_machine.travel(moment, tick=False):
            audit_record(user=None, action=AuditAction.VIEW, station=station, detail=detail)
    city_admin = StaffUserFactory(username="city-admin")
    city_admin.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    client.force_login(city_admin)

    response = client.get("/admin/privacy/auditentry/export.csv?o=1")

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.count(b"\xef\xbb\xbf") == 1
    assert ADDRESS.encode() in body
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    times = {row[-1]: row[0] for row in rows[1:]}
    assert times == {ADDRESS: "2026-11-28 23:06", "late": "2026-11-29 00:30"}
    assert "+00:00" not in body.decode("utf-8-sig")
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_cells_hold_local_datetimes_iso_dates_minutes_and_nothing_for_none():
    rows = [
        {"at": AT, "on": datetime.date(2026, 11, 28), "opens": datetime.time(8, 30, 15)},
        {"at": None, "on": None, "opens": None},
    ]
    columns = [
        ("at", lambda r: r["at"]),
        ("on", lambda r: r["on"]),
        ("opens", lambda r: r["opens"]),
    ]

    class _Rows(list):
        def iterator(self, chunk_size):
            return iter(self)

    assert list(csv_rows(_Rows(rows), columns)) == [
        ["at", "on", "opens"],
        ["2026-11-28 23:06", "2026-11-28", "08:30"],
        ["", "", ""],
    ]


def test_a_naive_datetime_is_taken_as_local():
    assert format_local(datetime.datetime(2026, 11, 28, 23, 6, 41, 944294)) == "2026-11-28 23:06"
    assert format_local(None) == ""


def test_only_the_first_line_carries_the_byte_order_mark():
    lines = list(csv_lines([["地址"], ["石牌街"]]))
    assert lines == ["\ufeff地址\r\n", "石牌街\r\n"]
