"""
CSV export of an admin list: the current filtered list, streamed, scoped, logged.

A ``ModelAdmin`` mixes in ``CsvExportAdminMixin`` and lists ``export_fields`` as
``(header, accessor)`` pairs (``accessor`` is an attribute path like
``"resident.surname"`` or a callable taking the object). Columns in
``export_sensitive_fields`` (document numbers) are only written for users with the
``privacy.export_document_numbers`` permission. Every export is recorded in the audit
trail with its filters, once for each station whose rows it contained.
"""

import csv
from collections.abc import Callable, Iterator

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from privacy.constants import AuditAction
from privacy.services import audit_record
from stations.models import Station

EXPORT_SENSITIVE_PERMISSION = "privacy.export_document_numbers"
EXPORT_CHUNK = 2000


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


class CsvExportAdminMixin:
    """Add an "Export CSV" link to a changelist that exports exactly what it shows."""

    change_list_template = "admin/linli_change_list_export.html"
    export_fields: list[tuple[str, str | Callable]] = []
    export_sensitive_fields: list[tuple[str, str | Callable]] = []
    export_filename = "export"

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
        if request.user.has_perm(EXPORT_SENSITIVE_PERMISSION):
            columns += list(self.export_sensitive_fields)
        return columns

    def export_queryset(self, request):
        """Return the changelist's own queryset: its scope, filters, search and ordering."""
        changelist = self.get_changelist_instance(request)
        return changelist.get_queryset(request)

    def export_stations(self, queryset) -> list[Station]:
        """
        Return the stations of the exported rows (along the admin's ``station_field``), so
        that each station's managers read the export in their audit trail. One query.
        """
        field = getattr(self, "station_field", None)
        if not field:
            return []
        rows = queryset.order_by().values(field)
        return list(Station.objects.filter(pk__in=rows).order_by("pk"))

    def export_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = self.export_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(_("These filters are not valid."))
        columns = self.export_columns(request)
        filters = request.GET.urlencode()[:400]
        audit_record(
            user=request.user,
            action=AuditAction.EXPORT,
            stations=self.export_stations(queryset),
            detail=f"{self.model._meta.label} ?{filters}",
        )
        writer = csv.writer(_Echo())
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in csv_rows(queryset, columns)),
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
