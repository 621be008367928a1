"""Staff two-step sign-in enforced on every request."""

import functools

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject


def _verified_or_anonymous(user):
    if user.is_authenticated and not user.is_verified():
        return AnonymousUser()
    return user


class StaffTwoFactorMiddleware:
    """
    With ``LINLI_REQUIRE_2FA`` (always on in production), a logged-in user who has not
    passed the second factor in this session is anonymous for every view: the admin, the
    staff pages and the private-file views all see ``AnonymousUser``. The password-checked
    but unverified user stays reachable as ``request.otp_pending_user`` for the two-step
    pages only (workspace.views). Must come after django-otp's ``OTPMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.LINLI_REQUIRE_2FA:
            user = request.user
            request.otp_pending_user = user
            request.user = SimpleLazyObject(functools.partial(_verified_or_anonymous, user))
        return self.get_response(request)
