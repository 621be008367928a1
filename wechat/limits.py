"""
Rate limits of the WeChat pages anybody can reach, per client address (the project's one
limiter, ``core.ratelimit``; the numbers in ``WECHAT_RATE_LIMITS``, config/settings/wechat.py).

Every request counts, before anything else is done for it: no session is written, no
WeChat API called, no database row looked up for a request over the limit. A page answers
429 with the translated page of WeChat's problems; the callback answers in
``wechat.callbacks`` (WeChat's servers read no page).
"""

import functools
import logging

from django.shortcuts import render
from django.utils.translation import gettext as _

from core.client import client_ip
from core.ratelimit import rate_limit_hit

logger = logging.getLogger(__name__)


def address_limited(request, name: str) -> bool:
    """Count this request against the limit ``name`` for its address; return whether over."""
    return rate_limit_hit(name, key=client_ip(request) or "-")


def limited_page(request):
    """The answer to a page request over its limit: HTTP 429, in the visitor's language."""
    message = _("Too many requests came from your connection. Please wait a while and try again.")
    return render(request, "wechat/problem.html", {"message": message}, status=429)


def rate_limited(name: str):
    """Decorate a view: over the limit ``name``, answer ``limited_page`` and log it."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if address_limited(request, name):
                logger.warning(
                    "WeChat page %s: rate limit reached by %s.", name, client_ip(request)
                )
                return limited_page(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
