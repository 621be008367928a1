"""
A station's public page and its QR codes, kept whole for a few seconds in each web process.

What is cached
    The whole response (status, headers, body) of ``GET /s/<code>/`` — the station page, or
    a closed station's 410 page — and of its QR codes (``/s/<code>/qr.svg``, ``…/qr.png``
    and the same under ``register/`` and ``help/``), in Django's local-memory cache backend:
    each web process keeps its own copy for ``PAGE_SECONDS``. A page asked for a thousand
    times a second is rendered once per process every few seconds and answered in between
    at about the cost of a static file — no query, no network round trip, nothing shared
    that could fail. (Kept in Redis instead, a page would cost a round trip per view, about
    as much as everything else the kept page costs: bench figure 1.) Visits are counted on
    every view all the same (``stations.visits``).

Keyed by
    The URL's name and the station code, then for the page the visitor's language —
    ``station:<code>:<language>``, the language Django's ``LocaleMiddleware`` picks: the
    language cookie, else ``Accept-Language``, which is what the page's ``Vary:
    Accept-Language, Cookie`` tells other caches — and for a QR code the ``SITE_URL`` inside
    it (``qr_register_png:<code>:<SITE_URL>``, the same for everybody). The code is
    lowercased and the query string ignored, so ``/s/ShiPai/?from=poster`` is the copy of
    ``/s/shipai/``; a PNG asked for with ``?size=`` is never kept. At most one entry per
    station and language and six per station: nobody can make a process keep more.

Invalidated when
    A station or a station text is saved or deleted: ``stations.signals`` empties this
    process's copies at once, and every other process renders the change when its copy
    expires, at most ``PAGE_SECONDS`` later (any station, because a closed station's page
    lists the open ones nearby). A deploy starts new processes with nothing kept.

Never anybody else's
    Only a ``GET`` answered 200 or 410 that sets no cookie and used no CSP nonce is kept,
    and a page is kept for, and served to, visitors who bring neither a session nor a
    messages cookie: signed-in staff, a resident with a form under way or with a message
    waiting get their own rendering. The page holds no form, so no CSRF token (the language
    menu is plain links); QR codes are never personal.

``stations.middleware.StationPagesMiddleware`` uses this right after WhiteNoise, before
sessions, users, CSRF and messages.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.urls import Resolver404, resolve
from django.utils import translation

from stations.constants import STATION_CODE_REGEX

PAGE_SECONDS = 5
# Every process's own copies (Django's thread-safe local-memory backend, not the shared
# cache): room for every station's page in every language and its six QR codes.
_pages = LocMemCache("stations-pages", {"TIMEOUT": PAGE_SECONDS, "OPTIONS": {"MAX_ENTRIES": 5000}})
# What a visit is and what may be kept: a station's page (or its closed page) and images.
SHARED_STATUSES = (200, 410)


@dataclass(frozen=True)
class StationUrl:
    """A request for one of a station's cached URLs: the code and the URL's name."""

    code: str
    name: str  # "station" (the page) or "qr_<target>_<fmt>"

    @property
    def is_page(self) -> bool:
        return self.name == "station"


def station_url(request) -> StationUrl | None:
    """Return which station URL this ``GET``/``HEAD`` asks for, or ``None`` for any other."""
    if request.method not in ("GET", "HEAD") or not request.path_info.startswith("/s/"):
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    code = match.kwargs.get("code", "").strip().lower()
    if match.namespace != "stations" or not re.match(STATION_CODE_REGEX, code):
        return None  # another app's URL, or a code that cannot exist (the view says 404)
    if match.url_name == "station" or match.url_name.startswith("qr_"):
        return StationUrl(code=code, name=match.url_name)
    return None


def page_key(request, url: StationUrl) -> str | None:
    """Return the cache key of ``url`` for this visitor, or ``None`` when not shared."""
    if url.is_page:
        cookies = request.COOKIES
        if settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies:
            return None
        return f"{url.name}:{url.code}:{_language(request)}"
    if url.name.endswith("_png") and "size" in request.GET:
        return None  # any size may be asked for: keeping them all would have no bound
    return f"{url.name}:{url.code}:{settings.SITE_URL}"


def _language(request) -> str:
    """Return the language ``LocaleMiddleware`` gives this request (no i18n_patterns here)."""
    return translation.get_language_from_request(request)


def page_get(key: str) -> HttpResponse | None:
    """Return a new response made from the copy kept under ``key``, or ``None``."""
    kept = _pages.get(key)
    if kept is None:
        return None
    status, headers, content = kept
    return HttpResponse(content, status=status, headers=dict(headers))


def page_keep(url: StationUrl, key: str, request, response) -> None:
    """Keep ``response`` under ``key`` unless something in it is this visitor's own."""
    if (
        request.method != "GET"
        or response.status_code not in SHARED_STATUSES
        or response.streaming
        or response.cookies  # a CSRF, session or messages cookie is one visitor's
        or get_nonce(request)  # a CSP nonce is one response's
        or "private" in response.get("Cache-Control", "")
        # Rendered in the language the key names (LocaleMiddleware decides as page_key does).
        or (url.is_page and response.get("Content-Language") != _language(request))
    ):
        return
    _pages.set(key, (response.status_code, tuple(response.items()), response.content))


def pages_forget() -> None:
    """Drop this process's copies of every station page and QR code (a station changed)."""
    _pages.clear()
