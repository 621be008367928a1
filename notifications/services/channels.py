"""
Send one rendered message through its channel; return the channel's reference.

A sender raises ``DeliveryError`` for a failure worth retrying and
``PermanentDeliveryError`` for one that will not fix itself (a refused address).

A channel in ``CHANNEL_FALLBACK_EXTENSIONS`` names, for a message it gave up, the recipient's other
route (``notifications.services.fallback``): WeChat falls back to email, else SMS.
"""

import smtplib
from email.utils import formataddr, parseaddr

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

from core.extensions import extensions
from notifications import sms
from notifications.constants import WORKSPACE_CHANNEL, Channel
from notifications.exceptions import DeliveryError, PermanentDeliveryError
from notifications.identity import email_message_id, message_identity
from notifications.models import Message
from notifications.rendering import station_name


def _email_send(message: Message, rendered) -> str:
    try:
        validate_email(message.to)
    except ValidationError as error:
        raise PermanentDeliveryError(f"Not an email address: {message.to!r}") from error
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    if message.station_id:
        sender = formataddr((station_name(message.station, message.language), address))
        reply_to = [message.station.email] if message.station.email else []
    else:
        sender, reply_to = settings.DEFAULT_FROM_EMAIL, []
    # The same Message-ID on every attempt: a second copy (worker killed after the mail
    # server took the first) is recognisably the same message.
    message_id = email_message_id(message.idempotency_key)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=sender,
        to=[message.to],
        reply_to=reply_to,
        headers={"Message-ID": message_id, "X-Linli-Message": message.idempotency_key[:200]},
    )
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentDeliveryError(f"Address refused: {error}") from error
    except smtplib.SMTPResponseException as error:
        text = f"Mail server answered {error.smtp_code}: {error.smtp_error!r}"
        if 500 <= error.smtp_code < 600:
            raise PermanentDeliveryError(text) from error
        raise DeliveryError(text) from error
    return message_id


def _sms_send(message: Message, rendered) -> str:
    try:
        number = phonenumbers.parse(message.to, None)
    except phonenumbers.NumberParseException as error:
        raise PermanentDeliveryError(f"Not a phone number: {message.to!r}") from error
    if not phonenumbers.is_possible_number(number):
        raise PermanentDeliveryError(f"Not a possible phone number: {message.to!r}")
    sender = station_name(message.station, message.language) if message.station_id else "Linli"
    return sms.send_sms(
        to=message.to,
        body=rendered.text,
        sender=sender,
        key=message_identity(message.idempotency_key),
    )


def _workspace_send(message: Message, rendered) -> str:
    """Deliver to the staff workspace: the dashboard lists the sent row itself."""
    return f"workspace:{message.pk}"


# One sender per channel; an app built on this one adds its own (WeChat's template
# message, ``wechat.channel.wechat_send``) in ``CHANNEL_SENDER_EXTENSIONS``.
CHANNEL_SENDERS = {
    Channel.EMAIL: _email_send,
    Channel.SMS: _sms_send,
    WORKSPACE_CHANNEL: _workspace_send,
}


def channel_sender(channel: str):
    """Return the sender of ``channel`` (``KeyError`` when there is none)."""
    return CHANNEL_SENDERS.get(channel) or extensions("CHANNEL_SENDER_EXTENSIONS")[channel]


def channel_fallback(channel: str):
    """
    Return where a message ``channel`` gave up goes instead, ``(message) -> (channel, to) |
    None`` (``CHANNEL_FALLBACK_EXTENSIONS``: WeChat's ``wechat_fallback_route``), or None.
    """
    return extensions("CHANNEL_FALLBACK_EXTENSIONS").get(channel)
