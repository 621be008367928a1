"""
``/wechat/callback/``: what WeChat's servers send us (the URL registered as the official
account's server address).

``GET`` is the server verification of 接入指南: answer ``echostr`` only when the signature
holds. ``POST`` is a message from a follower, plaintext or in safe mode (``encrypt_type=aes``),
which must be answered within WeChat's 5 seconds: the view only verifies, records and
queues (``wechat.inbox.message_answer``, tasks after commit), then answers with a passive
text reply or ``success``.

A callback is refused, never with a 500 and with nothing stored, when its body is over
``WECHAT_CALLBACK_MAX_BYTES`` (413), its signature is wrong, its timestamp is more than
``WECHAT_CALLBACK_WINDOW`` seconds away, its (timestamp, nonce) pair was already used
(``core.replay``), it does not decrypt for our app ID, or its XML is not WeChat's. Over
the ``wechat-callback`` rate limit of its address it is refused at once (429, before the
body is read): WeChat takes any answer but a quick 200 as a failure and tries again, then
tells the follower the account cannot answer now — a message is not dropped silently. Each
refusal is one log line with its reason and the client address; never the sender's
openid (a bearer of identity, like a private link) nor the message.
"""

import logging
import secrets
import time

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.client import client_ip
from core.replay import replay_first_use, timestamp_fresh
from wechat import crypto
from wechat.conf import wechat_enabled
from wechat.crypto import CallbackRefused
from wechat.inbox import message_answer
from wechat.limits import address_limited
from wechat.messages import encrypted_reply, text_reply, xml_fields

logger = logging.getLogger(__name__)

SUCCESS = "success"  # WeChat's "no reply": nothing is shown to the follower


def _refused(request, error: CallbackRefused) -> HttpResponse:
    logger.warning("WeChat callback refused (%s) from %s.", error.code, client_ip(request) or "-")
    return HttpResponse(error.code, status=error.status, content_type="text/plain")


def _verified_time(params) -> tuple[str, str]:
    timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
    if not timestamp or not nonce or len(nonce) > 64:
        raise CallbackRefused("missing_parameters", 400)
    if not timestamp_fresh(timestamp, window=settings.WECHAT_CALLBACK_WINDOW):
        raise CallbackRefused("stale_timestamp")
    return timestamp, nonce


def _not_replayed(timestamp: str, nonce: str) -> None:
    # Asked only once the signature holds: a forger cannot fill the cache with pairs.
    if not replay_first_use(
        "wechat-callback", timestamp, nonce, window=settings.WECHAT_CALLBACK_WINDOW
    ):
        raise CallbackRefused("replayed")


def _safe_mode() -> bool:
    return bool(settings.WECHAT_ENCODING_AES_KEY)


def _verification(request) -> HttpResponse:
    params = request.GET
    timestamp, nonce = _verified_time(params)
    token = settings.WECHAT_TOKEN
    echostr = params.get("echostr", "")
    if params.get("msg_signature") and _safe_mode():
        # An encrypted echostr (as WeChat Work and the open platform send it).
        crypto.signature_check(params["msg_signature"], token, timestamp, nonce, echostr)
        _not_replayed(timestamp, nonce)
        key = crypto.aes_key(settings.WECHAT_ENCODING_AES_KEY)
        echo = crypto.decrypt(echostr, key=key, app_id=settings.WECHAT_APP_ID).decode()
    else:
        crypto.signature_check(params.get("signature", ""), token, timestamp, nonce)
        _not_replayed(timestamp, nonce)
        echo = echostr
    logger.info("WeChat server verification answered.")
    return HttpResponse(echo, content_type="text/plain")


def _body(request) -> bytes:
    limit = settings.WECHAT_CALLBACK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise CallbackRefused("bad_length", 400) from None
    if declared > limit:
        raise CallbackRefused("too_large", 413)
    # Read at most one byte past the limit, whatever the header said (chunked bodies).
    body = request.read(limit + 1)
    if len(body) > limit:
        raise CallbackRefused("too_large", 413)
    if not body:
        raise CallbackRefused("empty", 400)
    return body


def _message(request, body: bytes) -> tuple[dict[str, str], bytes | None]:
    """Return the verified message's fields and the AES key (safe mode) or ``None``."""
    params = request.GET
    timestamp, nonce = _verified_time(params)
    token = settings.WECHAT_TOKEN
    if not _safe_mode():
        crypto.signature_check(params.get("signature", ""), token, timestamp, nonce)
        _not_replayed(timestamp, nonce)
        return xml_fields(body), None
    # Safe mode configured: a plaintext message is a downgrade, refused.
    if params.get("encrypt_type") != "aes":
        raise CallbackRefused("plaintext_in_safe_mode")
    encrypted = xml_fields(body).get("Encrypt", "")
    crypto.signature_check(params.get("msg_signature", ""), token, timestamp, nonce, encrypted)
    _not_replayed(timestamp, nonce)
    key = crypto.aes_key(settings.WECHAT_ENCODING_AES_KEY)
    xml = crypto.decrypt(encrypted, key=key, app_id=settings.WECHAT_APP_ID)
    return xml_fields(xml), key


def _reply(fields: dict[str, str], content: str | None, key: bytes | None) -> HttpResponse:
    if not content:
        return HttpResponse(SUCCESS, content_type="text/plain")
    xml = text_reply(
        to_user=fields.get("FromUserName", ""),
        from_user=fields.get("ToUserName", ""),
        content=content,
    )
    if key is not None:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        encrypted = crypto.encrypt(xml, key=key, app_id=settings.WECHAT_APP_ID)
        xml = encrypted_reply(
            encrypt=encrypted,
            msg_signature=crypto.signature(settings.WECHAT_TOKEN, timestamp, nonce, encrypted),
            timestamp=timestamp,
            nonce=nonce,
        )
    return HttpResponse(xml, content_type="application/xml; charset=utf-8")


@csrf_exempt  # WeChat's servers hold no CSRF token: the signature is the proof
@require_http_methods(["GET", "POST"])
def callback(request):
    """Verify WeChat's server (GET) or answer a follower's message (POST)."""
    if not wechat_enabled():
        raise Http404
    try:
        if address_limited(request, "wechat-callback"):
            # Before the body is read: an over-limit address costs one count in the cache.
            raise CallbackRefused("rate_limited", 429)
        if request.method == "GET":
            return _verification(request)
        fields, key = _message(request, _body(request))
        if not fields.get("FromUserName") or not fields.get("MsgType"):
            raise CallbackRefused("bad_message", 400)
    except CallbackRefused as error:
        return _refused(request, error)
    return _reply(fields, message_answer(fields), key)
