"""Serve QR codes a web process has already drawn before the rest of the middleware runs."""

from django.conf import settings

from stations import views


class QrCodeMiddleware:
    """
    Answer ``GET``/``HEAD`` of a QR code URL this process has already served from memory.

    A QR code is public, the same for everybody and never personal: it needs no session,
    user, language, CSRF or message handling, so it is answered here — placed right after
    WhiteNoise, like a static file — and costs about what a static file costs. The memory
    is keyed by the station generation and ``SITE_URL`` (stations.views.qr_from_memory),
    so a changed station or ``SITE_URL`` goes through the view again. Everything else, and
    the first request for each URL, passes through unchanged.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            image = views.qr_from_memory(request)
            if image is not None:
                response = views.qr_response(request, image)
                # What XFrameOptionsMiddleware would have added.
                response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
                return response
        return self.get_response(request)
