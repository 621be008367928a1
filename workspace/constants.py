"""Names, limits and refusal messages of staff two-step sign-in."""

from django.utils.translation import gettext_lazy as _

# Device names stored by django-otp (data, not copy: never shown translated).
AUTHENTICATOR_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

# Recovery codes given at enrolment, each usable once at the second-factor prompt.
RECOVERY_CODE_COUNT = 10

# Wrong enrolment codes typed for one user before their open codes are void: with 60 random
# bits a guess never succeeds, but nobody should get unlimited tries either.
ENROLMENT_CODE_TRIES = 5

# Session key holding the enrolment proven by a code: {"user": pk, "device": pk}.
ENROLMENT_SESSION_KEY = "workspace_enrolment"

# Why an enrolment code was refused, by ValidationError code.
ENROLMENT_CODE_ERRORS = {
    "invalid": _(
        "This enrolment code is not valid. Check it, or ask your station manager for a new one."
    ),
    "expired": _("This enrolment code has expired. Ask your station manager for a new one."),
    "used": _("This enrolment code has already been used. Ask your station manager for a new one."),
    "enrolled": _("Your account already has an authenticator app."),
}
