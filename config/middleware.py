"""Project-wide middleware: request IDs for the logs, and staff two-factor enforcement."""

import functools
import re
import uuid

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from config.logs import request_id_var

# An ID set by our own nginx (`proxy_set_header X-Request-ID $request_id`) is kept, so that
# nginx's and Django's log lines of one request share it; anything odd is replaced.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIDMiddleware:
    """Give every request an ID: in ``request.request_id``, the logs and ``X-Request-ID``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _verified_or_anonymous(user):
    if user.is_authenticated and not user.is_verified():
        return AnonymousUser()
    return user


class StaffTwoFactorMiddleware:
    """
    With ``LINLI_REQUIRE_2FA`` (always on in production), a logged-in user who has not
    passed the second factor in this session is anonymous for every view: the admin, the
    staff pages and the private-file views all see ``AnonymousUser``. The password-checked
    but unverified user stays reachable as ``request.otp_pending_user`` for the two-factor
    pages only (config/twofactor.py). Must come after django-otp's ``OTPMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.LINLI_REQUIRE_2FA:
            user = request.user
            request.otp_pending_user = user
            request.user = SimpleLazyObject(functools.partial(_verified_or_anonymous, user))
        return self.get_response(request)
