"""The receipt of a registration just sent: the private link, shown once."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import mark_safe
from django.views.decorators.cache import never_cache

from registration import services
from registration.selectors import documents_current, registration_for_receipt
from stations.qr import qr_svg

RECEIPT_SESSION_KEY = "registration_receipt"


def deadline_info(registration) -> dict:
    """Return what the receipt says about the 24-hour deadline."""
    now = timezone.now()
    remaining = registration.deadline_at - registration.submitted_at
    return {
        "deadline": registration.deadline_at,
        "late": registration.submitted_at > registration.deadline_at,
        "hours_left": max(0, int(remaining.total_seconds() // 3600)),
        "minutes_left": max(0, int(remaining.total_seconds() // 60) % 60),
        "now": now,
    }


def deadline_countdown(*, deadline_at, now=None) -> dict:
    """Return the time left until ``deadline_at`` for the live countdown (late once past)."""
    now = now or timezone.now()
    seconds = int((deadline_at - now).total_seconds())
    left = max(0, seconds)
    return {
        "deadline": deadline_at,
        "late": seconds <= 0,
        "seconds_left": left,
        "hours": left // 3600,
        "minutes": left % 3600 // 60,
    }


@never_cache
def receipt(request):
    """Show the receipt of the registration just submitted; the private link only once."""
    info = request.session.get(RECEIPT_SESSION_KEY)
    if not info:
        return redirect("registration:update_start")
    registration = registration_for_receipt(pk=info.get("id"))
    if registration is None:
        request.session.pop(RECEIPT_SESSION_KEY, None)
        return redirect("registration:update_start")
    token = info.get("token")
    if token:
        # Shown once: a reload (or the next person on a shared phone) sees no link.
        request.session[RECEIPT_SESSION_KEY] = {k: v for k, v in info.items() if k != "token"}
    admin_url = settings.SITE_URL + reverse(
        "admin:registration_registration_by_reference", args=[registration.reference]
    )
    return render(
        request,
        "registration/receipt.html",
        {
            "registration": registration,
            "resident": registration.resident,
            "station": registration.station,
            "photos": documents_current(registration=registration),
            "private_link": services.private_link_url(token) if token else "",
            "qr_svg": mark_safe(qr_svg(admin_url).decode()),  # noqa: S308 - escaped by qr_svg
            "countdown": deadline_countdown(deadline_at=registration.deadline_at),
            **deadline_info(registration),
        },
    )
