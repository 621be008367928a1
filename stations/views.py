"""Public pages of the stations app: the home page, station pages, QR codes and billboards."""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseNotModified
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.html import conditional_escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.caching import LocalLRU
from stations import billboards, qr
from stations.constants import (
    QR_MAX_AGE,
    QR_PNG_DEFAULT_SIZE,
    QR_PNG_MAX_SIZE,
    QR_PNG_MIN_SIZE,
    BillboardPurpose,
    BillboardSize,
    QrTarget,
)
from stations.selectors import (
    active_stations,
    station_get_by_code,
    station_page_data,
    stations_generation,
)
from stations.services import station_visit_record
from stations.shortcuts import (
    CLOSED_STATUS,
    CLOSED_TEMPLATE,
    station_page_context,
)


def home(request):
    """List the active stations, each linking to its station page."""
    return render(request, "stations/home.html", {"stations": active_stations()})


# ------------------------------------------------------------------------------
# The station page: rendered once per (generation, station, language) and process, then
# served from memory with this request's CSRF token and path filled in
# ------------------------------------------------------------------------------
# Marks put into the rendered page where the per-request values go. Random per process, so
# no station text can contain them; letters and digits only, so escaping never alters them.
_CSRF_MARK = f"linlicsrf{secrets.token_hex(12)}"
_PATH_MARK = f"/linlipath{secrets.token_hex(12)}/"
_NONCE_MARK = f"linlinonce{secrets.token_hex(12)}"
_PAGE_SHELLS = LocalLRU(maxsize=512)


@dataclass(frozen=True)
class _PageShell:
    html: str
    station_id: int
    status: int = 200


class _ShellRequest:
    """The request as the shell's template sees it: the path is a mark, the rest is real."""

    def __init__(self, request):
        self._request = request

    def get_full_path(self):
        return _PATH_MARK

    def __getattr__(self, name):
        return getattr(self._request, name)


def _page_template(data: dict) -> str:
    return "stations/station.html" if data["is_active"] else CLOSED_TEMPLATE


def _page_status(data: dict) -> int:
    return 200 if data["is_active"] else CLOSED_STATUS


def _may_use_shell(request) -> bool:
    """
    Whether the shared rendering fits this request: only when nothing in it can be the
    visitor's own — no session cookie (so the user is anonymous) and no messages cookie
    (so there are no messages to show). Signed-in staff get a full render, as before.
    """
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


@require_safe
def station(request, code):
    """
    Show a station's page: who they are, the three journeys, the 24-hour rule, emergencies.

    Reads cached plain data (no query when warm, two when cold) and counts the visit in
    memory (stations.visits). Each process keeps the rendered page per station generation
    and language and fills in only this response's CSRF token and path, so a warm view is
    no cache round trip (the generation is remembered for a second) and no template work. An unknown code is a translated
    404 pointing to the list of stations.
    """
    generation = stations_generation()
    language = translation.get_language()
    use_shell = _may_use_shell(request)
    key = (generation, code.strip().lower(), language)
    shell = _PAGE_SHELLS.get(key) if use_shell else None
    if shell is None:
        data = station_page_data(code, generation=generation)
        if data is None:
            return render(request, "stations/station_not_found.html", {"code": code}, status=404)
        context = station_page_context(data, language)
        if not use_shell:
            if request.method == "GET":
                station_visit_record(station_id=data["id"])
            return render(request, _page_template(data), context, status=_page_status(data))
        html = loader.render_to_string(
            _page_template(data),
            {
                **context,
                "csrf_token": _CSRF_MARK,
                "request": _ShellRequest(request),
                "messages": (),
                "csp_nonce": _NONCE_MARK,
            },
            request,
        )
        shell = _PageShell(html=html, station_id=data["id"], status=_page_status(data))
        _PAGE_SHELLS.set(key, shell)
    if request.method == "GET":
        station_visit_record(station_id=shell.station_id)
    html = shell.html.replace(_CSRF_MARK, _csrf_token(request)).replace(
        _PATH_MARK, conditional_escape(request.get_full_path() or "/")
    )
    if _NONCE_MARK in html:  # an inline script or style: this response's own CSP nonce
        html = html.replace(_NONCE_MARK, str(get_nonce(request)))
    response = HttpResponse(html, status=shell.status)
    # The page holds this visitor's CSRF token: no shared cache may give it to another.
    patch_vary_headers(response, ("Cookie",))
    return response


def _csrf_token(request) -> str:
    """
    This response's CSRF token: Django's ``get_token`` (the visitor's secret, masked anew).

    ``get_token`` also marks the cookie to be sent again, only to renew its lifetime; a
    visitor who already holds a valid cookie keeps it as it is, which spares a
    ``Set-Cookie`` on every station page view.
    """
    held_valid_cookie = bool(request.META.get("CSRF_COOKIE")) and not request.META.get(
        "CSRF_COOKIE_NEEDS_UPDATE"
    )
    token = get_token(request)
    if held_valid_cookie:
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    return token


_QR_FILES = LocalLRU(maxsize=256)
# The same images by the URL they were served under (only plain URLs and ``?size=N``).
_QR_BY_URL = LocalLRU(maxsize=256)
_QR_URL_ENDINGS = ("/qr.png", "/qr.svg")
_QR_QUERY_RE = re.compile(r"^(?:size=\d{1,4})?$")


def _code_or_404(code: str, *, generation: str | None = None) -> str:
    data = station_page_data(code, generation=generation)
    if data is None:
        raise Http404(_("There is no station with this code."))
    return data["code"]


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
        size = int(raw)
    # Each process keeps the images it served, under everything they are drawn from: a
    # changed station (generation) or SITE_URL is a new key. A warm image costs one cache
    # read (the generation) and no session, user or template work.
    generation = stations_generation()
    key = (generation, settings.SITE_URL, code.strip().lower(), target, fmt, size)
    image = _QR_FILES.get(key)
    if image is None:
        image = qr.station_qr(_code_or_404(code, generation=generation), target, fmt, size)
        _QR_FILES.set(key, image)
    if _QR_QUERY_RE.match(request.META.get("QUERY_STRING", "")):
        # Next time stations.middleware.QrCodeMiddleware answers this exact URL directly.
        _QR_BY_URL.set(_qr_url_key(request, generation), image)
    return qr_response(request, image)


def _qr_url_key(request, generation: str) -> tuple:
    return (generation, settings.SITE_URL, request.path_info, request.META.get("QUERY_STRING", ""))


def qr_from_memory(request) -> qr.QrFile | None:
    """Return the QR code this process already served for this very URL, if still current."""
    if not request.path_info.endswith(_QR_URL_ENDINGS):
        return None
    return _QR_BY_URL.get(_qr_url_key(request, stations_generation()))


def qr_response(request, image: qr.QrFile):
    """Answer with ``image`` (or 304 when the client has it), with ETag and Cache-Control."""
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
