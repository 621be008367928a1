"""
The admin's CSV export with privacy's rules: document numbers only with the permission,
and every export in the audit trail with its filters, once for each station whose rows it
contained.
"""

from core.export import CsvExportAdminMixin
from privacy.constants import AuditAction
from privacy.services import audit_record
from stations.models import Station

EXPORT_SENSITIVE_PERMISSION = "privacy.export_document_numbers"


class AuditedCsvExportAdminMixin(CsvExportAdminMixin):
    """Export CSV as ``core.export`` does, recorded in the audit trail before the first row."""

    export_sensitive_permission = EXPORT_SENSITIVE_PERMISSION

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

    def export_record(self, request, queryset) -> None:
        filters = request.GET.urlencode()[:400]
        audit_record(
            user=request.user,
            action=AuditAction.EXPORT,
            stations=self.export_stations(queryset),
            detail=f"{self.model._meta.label} ?{filters}",
        )
