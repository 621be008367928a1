"""Views of the help journey."""

from django.http import Http404
from django.shortcuts import render

from stations.selectors import station_get_by_code


def help_request(request, code):
    """Open the help-request form of the station ``code`` (coming soon)."""
    station = station_get_by_code(code)
    if station is None:
        raise Http404
    return render(request, "inquiries/coming_soon.html", {"station": station})
