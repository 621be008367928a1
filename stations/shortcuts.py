"""What other apps' views answer about a station: the page of a closed station."""

from django.shortcuts import render
from django.utils import translation

from stations.constants import EMERGENCY_NUMBERS
from stations.selectors import station_page_data, text_for_language

CLOSED_TEMPLATE = "stations/station_inactive.html"
# A closed station's URLs are gone for good (its billboards may stay up for a while).
CLOSED_STATUS = 410


def station_page_context(data: dict, language: str) -> dict:
    """Return the template context of a station page from ``station_page_data``."""
    return {
        "station": data,
        "text": text_for_language(data["texts"], language),
        "emergency_numbers": EMERGENCY_NUMBERS,
        "nearest": [
            {
                "code": s["code"],
                "district": s["district"],
                "text": text_for_language(s["texts"], language),
            }
            for s in data["nearest"]
        ],
    }


def station_closed_response(request, *, code: str):
    """
    Answer any page of the closed station ``code`` (its station page, registration form or
    help form): 410 Gone, translated, with the nearest open stations.
    """
    data = station_page_data(code)
    context = station_page_context(data, translation.get_language())
    return render(request, CLOSED_TEMPLATE, context, status=CLOSED_STATUS)
