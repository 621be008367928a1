"""
Choosing a language in the menu: a plain link that sets Django's language cookie.

The menu on every public page (``templates/includes/language_switcher.html``) is a list of
links, ``/language/<code>/?next=<page>``, not a form: a page without a form needs no CSRF
token, so a station page can be cached whole and shared. A ``GET`` may set this cookie
because all it can change is the language pages are shown in — a stranger's link that
switches it does no harm the menu cannot undo. The cookie is the one Django's
``set_language`` sets (the admin's menu still posts there), read by ``LocaleMiddleware``.
"""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.languages import language_codes


@require_safe
@never_cache
def language_choose(request, code):
    """
    Remember ``code`` in the language cookie and go back to ``?next=`` (a page of this site;
    anything else, such as another host, goes to the home page). An unknown code sets
    nothing.
    """
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if code in language_codes():
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response
