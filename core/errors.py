"""The translated error pages (400, 403, 404), rendered with the request."""

from django.shortcuts import render


def page_not_found(request, exception=None):
    """Render the translated 404 page (with the request, for the language switcher)."""
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    """Render the translated 403 page."""
    return render(request, "403.html", status=403)


def bad_request(request, exception=None):
    """Render the translated 400 page."""
    return render(request, "400.html", status=400)
