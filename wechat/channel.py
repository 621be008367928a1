"""
The WeChat channel of the outbox: a resident who linked WeChat gets their messages as the
official account's template messages, with a link back to their private page.

Who gets WeChat is decided in one place, ``wechat_route`` (asked by
``registration.selectors.resident_routes``, the rule of how to reach a resident, through
``RESIDENT_ROUTE_EXTENSIONS``, and by the inquiries' route of a case): WeChat configured,
and the resident linked it. A WeChat message's ``to`` is ``resident:<id>``; the openid is
looked up when sending and never stored in the outbox, logged or shown.

What WeChat answers, and what the outbox does with it:

Permanent — the message falls back at once to the resident's other channel (email, else
SMS: ``wechat_fallback_route``), the WeChat row says why ("sent another way"):

- 43004 the resident does not follow the official account (any more);
- 40003 invalid openid: the account blocked the user, or the openid is not of this account;
- 45009 the account's daily quota is used up (it resets at midnight: waiting would delay
  every message by up to a day);
- 40001 / 42001 / 40014 the access token refused even after the one refresh the client
  makes (``wechat.client``), and 40013 / 40125 / 40164 (wrong AppID or AppSecret, server
  not on the IP whitelist): fetching again will not help until an administrator acts;
- 40037 / 47001 / 47003 (template id or data refused), any other errcode;
- not configured, no template id for the kind of message, the resident unlinked WeChat.

Transient — retried with the outbox's backoff for ``WECHAT_RETRY_HOURS``, then the
message falls back:

- -1 system busy, a timeout, a refused connection, an HTTP error or an unreadable answer
  (``WeChatUnreachable``), the cache's token lock not released in time.

Every attempt carries the same ``client_msg_id`` (the message's identity): WeChat sends one
message per openid and id within ten minutes, so a retry after a lost answer is not a
second message.
"""

from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from notifications.constants import Channel, RefusalReason
from notifications.exceptions import PermanentDeliveryError, TemporaryDeliveryError
from notifications.identity import message_identity
from notifications.rendering import station_name
from registration.models import Resident
from registration.selectors import resident_routes
from wechat import client
from wechat.conf import WeChatTemplate, wechat_enabled, wechat_template
from wechat.models import WeChatBinding
from wechat.selectors import binding_for_resident

RESIDENT_PREFIX = "resident:"

# errcode → why, for staff; every other errcode is "refused".
_REASONS = {
    client.REQUIRE_SUBSCRIBE: RefusalReason.WECHAT_NOT_FOLLOWING,
    client.INVALID_OPENID: RefusalReason.WECHAT_UNKNOWN_USER,
    client.OUT_OF_API_FREQ_LIMIT: RefusalReason.WECHAT_QUOTA,
    **dict.fromkeys(client.TOKEN_REFUSED, RefusalReason.WECHAT_TOKEN),
}

# Kind of message (a key of WECHAT_TEMPLATES) of each outbox template sent to residents.
MESSAGE_KINDS = {
    "registration/confirmation": "receipt",
    "registration/link_resent": "receipt",
    "inquiries/received": "receipt",
    "registration/visa_expiring": "reminder",
    "registration/correction_reminder": "reminder",
    "registration/departure_check": "reminder",
    "inquiries/check_in": "reminder",
    "inquiries/reply": "reply",
    "inquiries/resolved": "reply",
    "registration/correction_requested": "decision",
    "registration/registered": "decision",
    "registration/rejected": "decision",
    "registration/ended": "decision",
    "registration/ended_visa_expired": "decision",
    "registration/staff_corrected": "decision",
}
# Context values that are the resident's private page, first found first; a message with
# none (a reply to a case) links to the station's page.
LINK_KEYS = ("secret_link", "secret_case_url", "secret_check_in_url", "secret_feedback_url")
FIELD_MAX = 200  # characters of one template field (WeChat cuts longer values)


def wechat_address(resident_id: int) -> str:
    """Return the outbox's ``to`` of a WeChat message to a resident (not the openid)."""
    return f"{RESIDENT_PREFIX}{resident_id}"


def wechat_route(resident_id: int | None, *, linked: bool | None = None) -> tuple[str, str] | None:
    """
    Return ``(Channel.WECHAT, "resident:<id>")`` when the resident ``resident_id`` is
    reached in WeChat — WeChat configured, and linked by the resident — else None. The one
    place this is decided. No query when WeChat is off, nor when the caller read ``linked``
    with its rows (``wechat.selectors.wechat_linked_annotation``); else one indexed EXISTS.
    """
    if not resident_id or not wechat_enabled():
        return None
    if linked is None:
        linked = WeChatBinding.objects.filter(resident_id=resident_id).exists()
    return (Channel.WECHAT, wechat_address(resident_id)) if linked else None


def wechat_resident_route(resident) -> tuple[str, str] | None:
    """
    ``wechat_route`` of a resident row (``RESIDENT_ROUTE_EXTENSIONS``, asked by
    ``registration.selectors.resident_routes``): no query when the caller read
    ``wechat_linked`` with the rows.
    """
    return wechat_route(resident.pk, linked=getattr(resident, "wechat_linked", None))


def wechat_route_sql(resident_id: str, params: dict) -> tuple[str, str, str] | None:
    """
    ``wechat_route`` for a set query (``registration.selectors.resident_routes_sql``,
    through ``RESIDENT_ROUTE_EXTENSIONS``): ``(linked, channel, to)`` — SQL of whether the
    resident whose id is the SQL expression ``resident_id`` is reached in WeChat, of the
    channel, and of that message's ``to`` (``wechat_address``) — or None when WeChat is not
    configured (then nobody is). Values go into ``params``
    (named, ``%(name)s``); the SQL holds model metadata only.
    """
    if not wechat_enabled():
        return None
    params["wechat_channel"] = Channel.WECHAT
    params["wechat_prefix"] = RESIDENT_PREFIX
    quote = connection.ops.quote_name
    table = quote(WeChatBinding._meta.db_table)
    column = quote(WeChatBinding._meta.get_field("resident").column)
    linked = f"EXISTS (SELECT 1 FROM {table} WHERE {table}.{column} = {resident_id})"  # noqa: S608
    return linked, "%(wechat_channel)s", f"%(wechat_prefix)s || CAST({resident_id} AS text)"


def _resident(message):
    reference = message.to or ""
    if not reference.startswith(RESIDENT_PREFIX) or not reference[len(RESIDENT_PREFIX) :].isdigit():
        return None
    return Resident.objects.filter(pk=int(reference[len(RESIDENT_PREFIX) :])).first()


def wechat_fallback_route(message) -> tuple[str, str] | None:
    """Return the resident's other route (email, else SMS) for a WeChat message given up."""
    resident = _resident(message)
    if resident is None:
        return None
    routes = resident_routes(resident, wechat=False)
    return (routes or [None])[0]


def template_for(template: str) -> WeChatTemplate | None:
    """Return the WeChat template for outbox template ``template`` (or None)."""
    return wechat_template(template, MESSAGE_KINDS.get(template, ""), "default")


def template_data(message, rendered, fields: dict[str, str]) -> dict[str, str]:
    """Return each of the template's ``fields`` filled with the Linli value it names."""
    context = message.context or {}
    values = {
        "title": lambda: rendered.subject,
        "station": lambda: context.get("station_name") or _station(message),
        "reference": lambda: context.get("reference") or "",
        # A reply's own words, as in its email (the SMS version only points to the case).
        "text": lambda: context.get("reply") or rendered.text,
        "time": lambda: timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    return {name: str(values[source]())[:FIELD_MAX] for name, source in fields.items()}


def _refused(reason: RefusalReason, detail: str = "") -> PermanentDeliveryError:
    return PermanentDeliveryError(f"{reason.value}: {detail or reason.label}")


def wechat_send(message, rendered) -> str:
    """Send ``message`` as a template message; return ``wechat:<msgid>`` (channel sender)."""
    if not wechat_enabled():
        raise _refused(RefusalReason.WECHAT_OFF, "WECHAT_* settings are empty")
    template = template_for(message.template)
    if template is None:
        raise _refused(RefusalReason.WECHAT_NO_TEMPLATE, f"no template for {message.template}")
    resident = _resident(message)
    binding = binding_for_resident(resident) if resident is not None else None
    if binding is None:
        raise _refused(RefusalReason.WECHAT_UNLINKED, "no WeChat link")
    context = message.context or {}
    link = next((context[key] for key in LINK_KEYS if context.get(key)), "") or _station_page(
        message
    )
    try:
        msgid = client.template_send(
            binding.openid,
            template.id,
            template_data(message, rendered, template.fields),
            link,
            client_msg_id=message_identity(message.idempotency_key),
        )
    except client.WeChatError as error:
        if error.code == client.SYSTEM_BUSY:  # unreachable, or WeChat's "system busy"
            raise TemporaryDeliveryError(
                f"{RefusalReason.WECHAT_UNREACHABLE.value}: {error}"
            ) from None
        reason = _REASONS.get(error.code, RefusalReason.WECHAT_REFUSED)
        raise _refused(reason, str(error)) from None
    return f"wechat:{msgid}"


def _station(message) -> str:
    if not message.station_id:
        return ""
    return station_name(message.station, message.language)


def _station_page(message) -> str:
    """The station's page: where a message without a private link (a reply) leads."""
    if not message.station_id:
        return settings.SITE_URL + "/"
    return settings.SITE_URL + reverse("stations:station", kwargs={"code": message.station.code})
