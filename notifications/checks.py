"""System checks of the notifications app: the delivery lease against the task time limit
and the broker's visibility timeout (``manage.py check``)."""

from django.conf import settings
from django.core.checks import Warning, register


@register()
def delivery_lease_check(app_configs=None, **kwargs):
    """
    Warn when a live attempt could be taken over (lease not above the task time limit), or
    when a message lost with its worker would wait for the broker's visibility timeout
    rather than for the sweep (lease plus sweep delay not below it).
    """
    lease = settings.NOTIFICATIONS_SENDING_LEASE
    limit = settings.NOTIFICATIONS_DELIVERY_TIME_LIMIT
    errors = []
    if lease <= limit:
        errors.append(
            Warning(
                f"NOTIFICATIONS_SENDING_LEASE ({lease} s) is not above the delivery time limit "
                f"({limit} s): a message still being sent could be sent a second time.",
                hint="Keep the lease at about twice NOTIFICATIONS_DELIVERY_TIME_LIMIT.",
                id="notifications.W001",
            )
        )
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    visibility = options.get("visibility_timeout")
    if visibility and lease + settings.NOTIFICATIONS_SWEEP_AFTER >= visibility:
        errors.append(
            Warning(
                f"NOTIFICATIONS_SENDING_LEASE ({lease} s) plus NOTIFICATIONS_SWEEP_AFTER is not "
                f"below the broker's visibility_timeout ({visibility} s): messages lost with a "
                "worker would come back through the broker, not through the sweep.",
                hint="Shorten the lease or lengthen the visibility timeout.",
                id="notifications.W002",
            )
        )
    return errors
