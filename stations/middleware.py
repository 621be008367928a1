"""Answer a station's page and QR codes from this process's copies; count the page's visits."""

from django.utils.cache import get_conditional_response

from stations import pages, visits


class StationPagesMiddleware:
    """
    Serve ``/s/<code>/`` and its QR codes whole from this process's copies (``stations.pages``)
    and count every ``GET`` of a station page as one visit (``stations.visits``).

    Placed right after WhiteNoise: like a static file, a kept answer needs no session, user,
    CSRF or message handling. What the view's response gets from the middleware further in
    — ``Content-Language``, ``Vary``, ``X-Frame-Options`` — is kept with it; what the
    middleware before this one adds (security headers, CSP, request ID) is added to every
    answer, kept or not. Any other request passes through untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        url = pages.station_url(request)
        if url is None:
            return self.get_response(request)
        request.get_host()  # a forged Host is a 400, as CommonMiddleware makes it elsewhere
        key = pages.page_key(request, url)
        kept = pages.page_get(key) if key else None
        if kept is not None:
            etag = kept.get("ETag")  # a QR code's: If-None-Match gets a 304, as from the view
            response = get_conditional_response(request, etag=etag, response=kept) if etag else kept
        else:
            response = self.get_response(request)
            if key:
                pages.page_keep(url, key, request, response)
        if (
            url.is_page
            and request.method == "GET"
            and response.status_code in pages.SHARED_STATUSES
        ):
            visits.visit_count(url.code)
        return response
