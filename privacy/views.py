"""Public pages of the privacy app."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.cache import cache_control

from privacy.constants import PRIVACY_NOTICE_VERSION


@cache_control(max_age=3600, public=True)
def privacy_notice(request):
    """Show the privacy notice in the visitor's language."""
    periods = settings.RETENTION
    return render(
        request,
        "privacy/notice.html",
        {
            "version": PRIVACY_NOTICE_VERSION,
            "registration_months": periods["registrations_ended_days"] // 30,
            "case_months": periods["cases_closed_days"] // 30,
            "check_in_months": periods["check_in_answers_days"] // 30,
            "outbox_days": periods["outbox_days"],
        },
    )
