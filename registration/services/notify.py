"""Messages to the resident of a registration, in their language, through the outbox."""

from django.conf import settings
from django.urls import reverse

from notifications.services import MessageSpec, message_queue_many
from registration.models import Registration
from registration.selectors import resident_routes


def private_link_url(token: str) -> str:
    """Return the absolute private link for ``token`` (SITE_URL, never the Host header)."""
    return settings.SITE_URL + reverse("registration:private", kwargs={"token": token})


def resident_message_specs(
    *,
    registration: Registration,
    template: str,
    key: str,
    context: dict | None = None,
    token: str | None = None,
    sms: bool | None = None,
) -> list[MessageSpec]:
    """
    Return the messages ``messages/registration/<template>`` to the resident, in their
    language, as specs (no query): email to the address on file, and an SMS too when the
    resident prefers SMS or has no email (``sms`` forces it on or off). Keys end with
    ``:<channel>``, so a message is never doubled whichever way it went.

    The address on file is the registration's own resident: contact details that came with
    this registration (or the one it follows through the private link), changed since only
    through that link or by staff. Never another record's, not even one staff confirmed as
    the same person (docs/identity.md).
    """
    resident = registration.resident
    context = {
        "reference": registration.reference,
        "status": registration.status,
        "staff_message": registration.staff_message,
        **(context or {}),
    }
    if token:
        context["secret_link"] = private_link_url(token)
    return [
        MessageSpec(
            template=f"registration/{template}",
            language=resident.preferred_language,
            channel=channel,
            to=to,
            context=context,
            idempotency_key=f"{key}:{channel}",
            station=registration.station,
            concerning=registration,
            recipient_name=resident.full_name,
        )
        for channel, to in resident_routes(resident, sms=sms)
    ]


def resident_notify(
    *,
    registration: Registration,
    template: str,
    key: str,
    context: dict | None = None,
    token: str | None = None,
    sms: bool | None = None,
) -> int:
    """
    Queue ``messages/registration/<template>`` to the resident, in their language; return
    how many messages were newly queued (a key already in the outbox is not queued again).
    """
    specs = resident_message_specs(
        registration=registration, template=template, key=key, context=context, token=token, sms=sms
    )
    return sum(message.newly_queued for message in message_queue_many(messages=specs))
