"""Public pages of the stations app: the home page, station pages, QR codes and billboards."""

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseNotModified
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_cookie

from stations import billboards, qr
from stations.constants import (
    QR_MAX_AGE,
    QR_PNG_DEFAULT_SIZE,
    QR_PNG_MAX_SIZE,
    QR_PNG_MIN_SIZE,
    QR_PNG_SIZES,
    BillboardPurpose,
    BillboardSize,
    QrTarget,
)
from stations.selectors import active_stations, station_get_by_code, station_page_data
from stations.shortcuts import (
    CLOSED_STATUS,
    CLOSED_TEMPLATE,
    station_page_context,
)


def home(request):
    """List the active stations, each linking to its station page."""
    return render(request, "stations/home.html", {"stations": active_stations()})


def _panels(request, code: str) -> list[dict]:
    """
    Return what other apps add to the station page for this visitor (``STATION_PAGE_PANELS``:
    dotted paths of ``panel(*, request, code) -> dict | None``, the dict naming its
    ``template``). A panel may only depend on the visitor's session: a page rendered for a
    visitor without one is kept and served to others (``stations.pages``).
    """
    panels = (
        import_string(path)(request=request, code=code) for path in settings.STATION_PAGE_PANELS
    )
    return [panel for panel in panels if panel]


@require_safe
@vary_on_cookie  # the language cookie picks the language, as Accept-Language does
def station(request, code):
    """
    Show a station's page: who they are, the three journeys, the 24-hour rule, emergencies.

    A closed station's page says so (410) and lists the nearest open ones; an unknown code
    is a translated 404 pointing to the list of stations. No form, so no CSRF token: the
    page is cached whole per station and language, and its visits counted, by
    ``stations.middleware`` (see ``stations.pages``).
    """
    data = station_page_data(code)
    if data is None:
        return render(request, "stations/station_not_found.html", {"code": code}, status=404)
    context = {
        **station_page_context(data, translation.get_language()),
        # The language menu comes back to the station's own URL, not to this request's
        # (``?from=poster``, ``/s/ShiPai/``): one page per station and language.
        "language_next": reverse("stations:station", kwargs={"code": data["code"]}),
        # The share card (WeChat and others read these tags, no script): absolute URLs.
        "share_url": settings.SITE_URL + reverse("stations:station", kwargs={"code": data["code"]}),
        "share_image": settings.SITE_URL + static("img/share-icon.png"),
    }
    if data["is_active"]:
        context["panels"] = _panels(request, data["code"])
        return render(request, "stations/station.html", context)
    return render(request, CLOSED_TEMPLATE, context, status=CLOSED_STATUS)


def _cached_file(request, content: bytes, content_type: str, etag: str, filename: str = ""):
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(content, content_type=content_type)
        if filename:
            response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={QR_MAX_AGE}"
    return response


@require_safe
def qr_code(request, code, target=QrTarget.STATION, fmt="svg"):
    """Serve the QR code of one stable station URL as SVG or PNG (``?size=`` pixels)."""
    size = None
    if fmt == "png":
        raw = request.GET.get("size", str(QR_PNG_DEFAULT_SIZE))
        if not raw.isdigit() or not QR_PNG_MIN_SIZE <= int(raw) <= QR_PNG_MAX_SIZE:
            return HttpResponseBadRequest(
                _("The size must be a whole number of pixels from %(min)s to %(max)s.")
                % {"min": QR_PNG_MIN_SIZE, "max": QR_PNG_MAX_SIZE},
                content_type="text/plain; charset=utf-8",
            )
        size = next(bucket for bucket in QR_PNG_SIZES if bucket >= int(raw))
    # Drawn once per URL: stations.middleware keeps the answer in the cache.
    image = qr.station_qr(_station_or_404(code).code, target, fmt, size)
    return _cached_file(request, image.content, image.content_type, image.etag)


def _billboard_options(request):
    size = request.GET.get("size", BillboardSize.A3).upper()
    purpose = request.GET.get("purpose", BillboardPurpose.BOTH).lower()
    if size not in BillboardSize.values or purpose not in BillboardPurpose.values:
        return None
    return size, purpose


def _station_or_404(code: str):
    station = station_get_by_code(code)
    if station is None:
        raise Http404(_("There is no station with this code."))
    return station


@require_safe
def billboard_pdf(request, code):
    """Serve the printable billboard PDF (``?size=A4|A3|A2&purpose=both|station|register|help``)."""
    options = _billboard_options(request)
    if options is None:
        return HttpResponseBadRequest(
            _("Unknown paper size or purpose."), content_type="text/plain; charset=utf-8"
        )
    size, purpose = options
    station = _station_or_404(code)
    content, etag = billboards.billboard_file(station, kind="pdf", size=size, purpose=purpose)
    filename = f"linli-billboard-{station.code}-{size}-{purpose}.pdf"
    return _cached_file(request, content, "application/pdf", etag, filename)


@require_safe
def poster_png(request, code):
    """Serve the 1080×1920 PNG poster for sharing in WeChat groups (``?purpose=``)."""
    purpose = request.GET.get("purpose", BillboardPurpose.BOTH).lower()
    if purpose not in BillboardPurpose.values:
        return HttpResponseBadRequest(
            _("Unknown paper size or purpose."), content_type="text/plain; charset=utf-8"
        )
    station = _station_or_404(code)
    content, etag = billboards.billboard_file(station, kind="png", purpose=purpose)
    filename = f"linli-poster-{station.code}-{purpose}.png"
    return _cached_file(request, content, "image/png", etag, filename)
