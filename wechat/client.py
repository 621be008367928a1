"""
A small client of the official account's HTTP API (no SDK: the commit "WeChat base" says why).

Only what Linli uses: the access token, template messages, the web authorisation's openid,
the download of a photo a resident sent, and the account's menu. Every call has a timeout
(``WECHAT_TIMEOUT``); an answer with a non-zero ``errcode`` raises ``WeChatError`` with
WeChat's code, a network failure, an HTTP error or an unreadable answer raises
``WeChatUnreachable`` (code -1, WeChat's own "system busy": try again later).

The access token (valid ``expires_in`` seconds, 7200 today) is kept in Django's cache —
Redis in production — so every web and worker process shares one. Only one process fetches
a new one at a time (a lock in the cache, ``cache.add``); the others wait for it. A token
WeChat calls invalid or expired (40001, 42001, 40014) is dropped — only if it is still the
one in the cache — and the call is made once more with a new one; a second refusal raises.
A failed fetch caches nothing. Nothing here logs a token, a secret or an openid.
"""

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# errcodes (developers.weixin.qq.com, "全局返回码说明").
SYSTEM_BUSY = -1
INVALID_CREDENTIAL = 40001  # access token invalid (or AppSecret wrong when fetching one)
INVALID_OPENID = 40003
INVALID_MEDIA_SIZE = 40006
INVALID_MEDIA_ID = 40007
INVALID_ACCESS_TOKEN = 40014
INVALID_BUTTON_NAME_SIZE = 40018
INVALID_SUB_BUTTON_NAME_SIZE = 40025
INVALID_CODE = 40029
CODE_BEEN_USED = 40163
ACCESS_TOKEN_EXPIRED = 42001
REQUIRE_SUBSCRIBE = 43004
OUT_OF_API_FREQ_LIMIT = 45009
TOKEN_REFUSED = frozenset({INVALID_CREDENTIAL, INVALID_ACCESS_TOKEN, ACCESS_TOKEN_EXPIRED})

TOKEN_MARGIN = 300  # seconds before WeChat's expiry that a token is replaced
LOCK_SECONDS = 15  # a fetch holds the lock at most this long (a crashed holder: it lapses)
WAIT_STEP = 0.05


class WeChatError(Exception):
    """WeChat answered with ``errcode`` ``code`` (never carries a token or an openid)."""

    def __init__(self, code: int, message: str = ""):
        self.code = int(code)
        self.message = str(message)[:200]
        super().__init__(f"WeChat error {self.code}: {self.message}")


class WeChatUnreachable(WeChatError):
    """No usable answer: network failure, timeout, HTTP error or a malformed reply."""

    def __init__(self, message: str = ""):
        super().__init__(SYSTEM_BUSY, message)


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


def _cache_key(name: str) -> str:
    return f"wechat:{name}:{settings.WECHAT_APP_ID}"


# -- HTTP ------------------------------------------------------------------------------


def _open(request: urllib.request.Request, *, max_bytes: int | None = None):
    """Return ``(body, content_type)``; raise ``WeChatUnreachable`` on any transport failure."""
    try:
        with urllib.request.urlopen(request, timeout=settings.WECHAT_TIMEOUT) as response:  # noqa: S310 (URL from settings)
            content_type = response.headers.get_content_type()
            if max_bytes is not None:
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > max_bytes:
                    raise WeChatError(INVALID_MEDIA_SIZE, "media larger than allowed")
                body = response.read(max_bytes + 1)
                if len(body) > max_bytes:
                    raise WeChatError(INVALID_MEDIA_SIZE, "media larger than allowed")
            else:
                body = response.read(1024 * 1024)
            return body, content_type
    except urllib.error.HTTPError as error:
        raise WeChatUnreachable(f"HTTP {error.code}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as error:
        raise WeChatUnreachable(type(error).__name__) from None


def _json(body: bytes) -> dict:
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WeChatUnreachable("answer is not JSON") from None
    if not isinstance(answer, dict):
        raise WeChatUnreachable("answer is not a JSON object")
    code = answer.get("errcode", 0)
    if code:
        raise WeChatError(code, answer.get("errmsg", ""))
    return answer


def _url(path: str, params: dict) -> str:
    return f"{settings.WECHAT_API_BASE}{path}?{urllib.parse.urlencode(params)}"


def _get(path: str, params: dict) -> dict:
    body, _type = _open(urllib.request.Request(_url(path, params), method="GET"))  # noqa: S310
    return _json(body)


def _post(path: str, params: dict, payload: dict) -> dict:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 (the URL comes from settings)
        _url(path, params),
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    body, _type = _open(request)
    return _json(body)


# -- The access token --------------------------------------------------------------------


def _cached_token() -> _Token | None:
    try:
        value = cache.get(_cache_key("access-token"))
    except Exception:
        logger.warning("Cache unavailable: WeChat access token not shared", exc_info=True)
        return None
    if isinstance(value, dict) and value.get("expires_at", 0) > time.time():
        return _Token(value["value"], value["expires_at"])
    return None


def _fetch_token() -> _Token:
    answer = _get(
        "/cgi-bin/token",
        {
            "grant_type": "client_credential",
            "appid": settings.WECHAT_APP_ID,
            "secret": settings.WECHAT_APP_SECRET,
        },
    )
    value = answer.get("access_token")
    expires_in = answer.get("expires_in")
    if not isinstance(value, str) or not value or not isinstance(expires_in, int):
        raise WeChatUnreachable("token answer without access_token")
    lifetime = max(expires_in - TOKEN_MARGIN, expires_in // 2, 1)
    token = _Token(value, time.time() + lifetime)
    try:
        cache.set(
            _cache_key("access-token"),
            {"value": token.value, "expires_at": token.expires_at},
            lifetime,
        )
    except Exception:
        logger.warning("Cache unavailable: WeChat access token not shared", exc_info=True)
    logger.info("WeChat access token fetched (valid %s s)", expires_in)
    return token


def _lock_take() -> bool:
    try:
        return bool(cache.add(_cache_key("token-lock"), 1, LOCK_SECONDS))
    except Exception:
        return True  # no cache, no sharing: this process fetches its own


def _lock_release() -> None:
    try:
        cache.delete(_cache_key("token-lock"))
    except Exception:
        logger.warning("Cache unavailable: WeChat token lock left to lapse", exc_info=True)


def access_token() -> str:
    """
    Return a valid access token: the shared one from the cache, else a new one fetched by
    exactly one process while the others wait for it (at most ``LOCK_SECONDS`` + a little).
    """
    deadline = time.monotonic() + LOCK_SECONDS + settings.WECHAT_TIMEOUT
    while True:
        token = _cached_token()
        if token is not None:
            return token.value
        if _lock_take():
            try:
                token = _cached_token()  # fetched by another process just before the lock
                return token.value if token is not None else _fetch_token().value
            finally:
                _lock_release()
        if time.monotonic() > deadline:
            raise WeChatUnreachable("timed out waiting for another process's access token")
        time.sleep(WAIT_STEP)


def _token_drop(value: str) -> None:
    """Forget ``value`` if it is still the shared token (not a newer one another process got)."""
    token = _cached_token()
    if token is not None and token.value == value:
        try:
            cache.delete(_cache_key("access-token"))
        except Exception:
            logger.warning("Cache unavailable: WeChat access token not dropped", exc_info=True)


def _with_token(call):
    """Run ``call(token)``; on a refused token, once more with a new one."""
    token = access_token()
    try:
        return call(token)
    except WeChatError as error:
        if error.code not in TOKEN_REFUSED:
            raise
        logger.info("WeChat refused the access token (%s): fetching a new one", error.code)
        _token_drop(token)
    return call(access_token())


# -- The calls ---------------------------------------------------------------------------


def template_send(openid: str, template_id: str, data: dict, url: str = "", **extra) -> int:
    """
    Send template message ``template_id`` to ``openid``; return WeChat's ``msgid``.

    ``data`` maps the template's keywords to text (or to ``{"value": …}``); ``url`` is the
    page the message opens; ``extra`` adds fields of the request as they are (for example
    ``client_msg_id``, WeChat's de-duplication id).
    """
    payload = {
        "touser": openid,
        "template_id": template_id,
        "data": {
            key: value if isinstance(value, dict) else {"value": str(value)}
            for key, value in data.items()
        },
        **extra,
    }
    if url:
        payload["url"] = url
    answer = _with_token(
        lambda token: _post("/cgi-bin/message/template/send", {"access_token": token}, payload)
    )
    return int(answer.get("msgid", 0))


def oauth_authorize_url(redirect_uri: str, state: str) -> str:
    """Return the web authorisation URL (silent ``snsapi_base``) that comes back with a code."""
    query = urllib.parse.urlencode(
        {
            "appid": settings.WECHAT_APP_ID,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
        }
    )
    return f"{settings.WECHAT_OPEN_BASE}/connect/oauth2/authorize?{query}#wechat_redirect"


def oauth_openid(code: str) -> str:
    """Return the openid of the web authorisation's ``code`` (40029: invalid code)."""
    answer = _get(
        "/sns/oauth2/access_token",
        {
            "appid": settings.WECHAT_APP_ID,
            "secret": settings.WECHAT_APP_SECRET,
            "code": code,
            "grant_type": "authorization_code",
        },
    )
    openid = answer.get("openid")
    if not isinstance(openid, str) or not openid:
        raise WeChatUnreachable("authorisation answer without openid")
    return openid


def media_download(media_id: str, *, max_bytes: int | None = None) -> tuple[bytes, str]:
    """
    Return ``(bytes, content_type)`` of the temporary media ``media_id`` (a photo a resident
    sent). Larger than ``max_bytes`` (default ``WECHAT_MEDIA_MAX_BYTES``): ``WeChatError``
    40006, nothing more is read.
    """
    limit = max_bytes if max_bytes is not None else settings.WECHAT_MEDIA_MAX_BYTES

    def call(token):
        request = urllib.request.Request(  # noqa: S310 (the URL comes from settings)
            _url("/cgi-bin/media/get", {"access_token": token, "media_id": media_id}),
            method="GET",
        )
        body, content_type = _open(request, max_bytes=limit)
        if content_type in ("application/json", "text/plain"):
            _json(body)  # an error answer: raises
            raise WeChatUnreachable("media answer without content")
        return body, content_type

    return _with_token(call)


def menu_create(menu: dict) -> None:
    """
    Set the official account's menu to ``menu`` (``{"button": [...]}``, 自定义菜单创建接口);
    it replaces the whole menu. WeChat refuses a bad one with its errcode (``WeChatError``:
    40018 a button name too long, 40025 a sub-button name too long, 40016 too many buttons).
    """
    _with_token(lambda token: _post("/cgi-bin/menu/create", {"access_token": token}, menu))
