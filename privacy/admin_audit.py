"""
Every look at personal data in the admin, in the audit trail: change pages, history lists
and history versions.

A ``ModelAdmin`` of personal data mixes in ``AuditedLooksAdminMixin`` (before the scoping
mixin and django-simple-history's admin). Each page answered 200 to a GET writes one
``AuditAction.VIEW`` entry per station whose data it showed (``audit_stations``), so each
station's manager reads the looks at their own residents. Refusals (404, 403) write
nothing: nothing was seen.
"""

from django.template.response import TemplateResponse

from privacy.constants import AuditAction
from privacy.services import audit_record

HISTORY_LIST = "history"
HISTORY_VERSION = "history version %s"


class AuditedLooksAdminMixin:
    """Record each change page, history list and history version a staff member opens."""

    def audit_stations(self, request, obj) -> list:
        """
        Return the stations whose data ``obj`` is, as far as the page showed it: by default
        the one station found along ``station_field``. Override for objects shared by
        several stations.
        """
        value = obj
        for part in getattr(self, "station_field", "station").split("__"):
            value = getattr(value, part, None)
            if value is None:
                return []
        return [value]

    def audit_look(self, request, obj, *, detail: str = "") -> None:
        """Record that the user looked at ``obj`` (one entry per station concerned)."""
        audit_record(
            user=request.user,
            action=AuditAction.VIEW,
            obj=obj,
            stations=self.audit_stations(request, obj),
            detail=detail,
        )

    def _audit_response(self, request, response, *, detail: str):
        if request.method != "GET" or response.status_code != 200:
            return response
        context = getattr(response, "context_data", None) or {}
        obj = context.get("original") or context.get("object")
        if obj is not None:
            self.audit_look(request, obj, detail=detail)
        return response

    def render_history_view(self, request, template, context, **kwargs):
        # A TemplateResponse keeps the context, so the look is audited without a new query.
        return TemplateResponse(request, template, context, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        return self._audit_response(request, response, detail="")

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        return self._audit_response(request, response, detail=HISTORY_LIST)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        response = super().history_form_view(request, object_id, version_id, extra_context)
        return self._audit_response(request, response, detail=HISTORY_VERSION % version_id)
