"""System checks of the staff workspace (``manage.py check --deploy``)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def two_factor_required_check(app_configs, **kwargs):
    """Fail a deployment where staff could reach the admin with a password alone."""
    if settings.LINLI_REQUIRE_2FA:
        return []
    return [
        checks.Error(
            "LINLI_REQUIRE_2FA is off: staff reach residents' personal data with a password alone.",
            hint="The production settings switch it on; do not switch it off on a server.",
            id="workspace.E001",
        )
    ]
