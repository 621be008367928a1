"""Project-wide security helpers: safe error reports, the lockout page."""

import re

from django.conf import settings
from django.shortcuts import render
from django.views.debug import SafeExceptionReporterFilter


class PersonalDataExceptionReporterFilter(SafeExceptionReporterFilter):
    """
    Error reports (500 emails, ``DEBUG`` pages) without residents' personal data.

    Django already hides passwords and secrets. Linli's public forms are personal data
    almost field by field (names, travel-document numbers, addresses, phone numbers), so
    every POST value is hidden except a few harmless control fields, and so is every local
    variable's value in tracebacks. Connection URLs carry passwords and are hidden among
    settings. With ``DEBUG`` on (development only) nothing is hidden, as in Django.
    """

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|_URL$|DSN", flags=re.IGNORECASE
    )
    visible_post_fields = frozenset({"language", "next", "action", "submit"})

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if request is None or not self.is_active(request):
            return params
        cleansed = params.copy()
        for key in cleansed:
            if key not in self.visible_post_fields:
                cleansed[key] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        if not self.is_active(request):
            return variables
        # Any local may hold a document number (``value`` in a validator, ``data`` in a
        # service): outside DEBUG the names stay, the values go.
        return [(name, self.cleansed_substitute) for name, _value in variables]


def lockout_response(request, original_response=None, credentials=None):
    """The translated page shown by django-axes to a locked-out client (HTTP 429)."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
