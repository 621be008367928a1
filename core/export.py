"""
CSV export of an admin list: the current filtered list, streamed.

A ``ModelAdmin`` mixes in ``CsvExportAdminMixin`` and lists ``export_fields`` as
``(header, accessor)`` pairs (``accessor`` is an attribute path like
``"resident.surname"`` or a callable taking the object). Columns in
``export_sensitive_fields`` are only written for users with
``export_sensitive_permission``. Before the first row, ``export_record`` is called: a
subclass records the export where it must (privacy.export writes the audit trail).

The file is for Excel as much as for programs: it starts with a UTF-8 byte-order mark
(without it Excel reads UTF-8 as the local code page and garbles Chinese addresses), and
dates and times are written by ``core.times.format_local`` (local time, to the minute).
"""

import csv
import datetime
from collections.abc import Callable, Iterable, Iterator

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from core.times import format_local

EXPORT_CHUNK = 2000
# U+FEFF at the start of a UTF-8 file: how Excel tells UTF-8 from the local code page.
BYTE_ORDER_MARK = "\ufeff"


class _Echo:
    """A file-like object whose ``write`` returns the value, for csv.writer streaming."""

    def write(self, value):
        return value


def _resolve(obj, accessor: str | Callable):
    if callable(accessor):
        return accessor(obj)
    value = obj
    for part in accessor.split("."):
        value = getattr(value, part, None)
        if value is None:
            return ""
        if callable(value) and not hasattr(value, "all"):
            value = value()
    return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date | datetime.time):
        return format_local(value)  # digits and dashes: nothing a spreadsheet would run
    text = force_str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def csv_rows(
    queryset, columns: list[tuple[str, str | Callable]], *, chunk_size: int = EXPORT_CHUNK
) -> Iterator[list[str]]:
    """Yield the header row, then one row per object, reading the database in chunks."""
    yield [force_str(header) for header, _accessor in columns]
    for obj in queryset.iterator(chunk_size=chunk_size):
        yield [_cell(_resolve(obj, accessor)) for _header, accessor in columns]


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """Yield ``rows`` as lines of CSV text, the first one after a byte-order mark."""
    writer = csv.writer(_Echo())
    prefix = BYTE_ORDER_MARK
    for row in rows:
        yield prefix + writer.writerow(row)
        prefix = ""


class CsvExportAdminMixin:
    """Add an "Export CSV" link to a changelist that exports exactly what it shows."""

    change_list_template = "admin/linli_change_list_export.html"
    export_fields: list[tuple[str, str | Callable]] = []
    export_sensitive_fields: list[tuple[str, str | Callable]] = []
    export_filename = "export"
    # Without a permission named here, sensitive columns are never written.
    export_sensitive_permission: str | None = None

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_csv_view),
                name=f"{opts.app_label}_{opts.model_name}_export",
            ),
            *super().get_urls(),
        ]

    def export_columns(self, request) -> list[tuple[str, str | Callable]]:
        columns = list(self.export_fields)
        permission = self.export_sensitive_permission
        if permission and request.user.has_perm(permission):
            columns += list(self.export_sensitive_fields)
        return columns

    def export_queryset(self, request):
        """Return the changelist's own queryset: its scope, filters, search and ordering."""
        changelist = self.get_changelist_instance(request)
        return changelist.get_queryset(request)

    def export_record(self, request, queryset) -> None:
        """Record that ``request.user`` exports ``queryset``; nothing here, see subclasses."""

    def export_rows(self, request):
        """
        Return the export's rows (the permission checked, the export recorded) and ``None``,
        or ``None`` and the 400 answer to filters that are not valid. Every format uses it.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = self.export_queryset(request)
        except IncorrectLookupParameters:
            return None, HttpResponseBadRequest(_("These filters are not valid."))
        columns = self.export_columns(request)
        self.export_record(request, queryset)
        return csv_rows(queryset, columns), None

    def export_csv_view(self, request):
        rows, refused = self.export_rows(request)
        if refused is not None:
            return refused
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(
            csv_lines(rows),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{self.export_filename}-{stamp}.csv"'
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def changelist_view(self, request, extra_context=None):
        opts = self.model._meta
        extra_context = {
            **(extra_context or {}),
            "export_url_name": f"admin:{opts.app_label}_{opts.model_name}_export",
            "export_label": _("Export CSV"),
        }
        return super().changelist_view(request, extra_context=extra_context)
