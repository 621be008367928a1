"""
What the case, feedback and check-in services share: links, reaching the resident, the
thread and the row lock of a case.
"""

from django.conf import settings
from django.urls import reverse

from inquiries.constants import ContactMethod, Status
from inquiries.models import Inquiry, InquiryEntry
from notifications.constants import Channel
from notifications.services import message_queue
from wechat.channel import wechat_route


def _site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def case_url(raw_token: str) -> str:
    return _site_url(reverse("inquiries:case", kwargs={"token": raw_token}))


def _resident_route(inquiry: Inquiry) -> tuple[str, str] | None:
    """
    Return ``(channel, address)`` to reach the resident of ``inquiry``, or ``None``: WeChat
    when the case's registered resident linked it (``wechat_route``, the rule of
    ``registration.selectors.resident_routes``), else the contact the case was given.
    """
    if route := wechat_route(inquiry.resident_id):
        return route
    email = inquiry.email
    phone = str(inquiry.phone or "")
    if inquiry.contact_method == ContactMethod.EMAIL and email:
        return Channel.EMAIL, email
    if inquiry.contact_method == ContactMethod.PHONE and phone:
        return Channel.SMS, phone
    if email:
        return Channel.EMAIL, email
    if phone:
        return Channel.SMS, phone
    return None


def _message_resident(*, inquiry: Inquiry, template: str, key: str, context: dict) -> bool:
    route = _resident_route(inquiry)
    if route is None:
        return False
    channel, to = route
    message_queue(
        template=template,
        language=inquiry.language,
        channel=channel,
        to=to,
        context={"reference": inquiry.reference, "subject": inquiry.subject, **context},
        idempotency_key=key,
        station=inquiry.station,
        concerning=inquiry,
        recipient_name=inquiry.contact_name,
    )
    return True


def _entry_add(*, inquiry, kind, author_kind, body, author=None) -> InquiryEntry:
    return InquiryEntry.objects.create(
        inquiry=inquiry, kind=kind, author_kind=author_kind, author=author, body=body
    )


def _lock(inquiry: Inquiry) -> Inquiry:
    return (
        Inquiry.objects.select_for_update(of=("self",)).select_related("station").get(pk=inquiry.pk)
    )


def _status_label(status: str) -> str:
    return str(Status(status).label)
