"""
URLs of the benchmark profile (config.settings.bench): every real URL plus the baseline.

``/bench/bare/`` is the "bare Django view": the same gunicorn, settings and middleware as
the station page, but a view that does nothing. It exists only here, never in config/urls.
"""

from django.http import HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404  # noqa: F401
from config.urls import urlpatterns as real_urlpatterns


def bare(request):
    """Return a short constant page: the cost of Django itself, without any app work."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *real_urlpatterns]
