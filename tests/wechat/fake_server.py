"""
A fake WeChat: a real HTTP server on 127.0.0.1 (a thread) speaking the official account's
documented protocol, for tests. Nothing of the project is imported here.

Endpoints (developers.weixin.qq.com, official account API):

- ``GET /cgi-bin/token?grant_type=client_credential&appid&secret`` → ``{access_token,
  expires_in}`` (40013 wrong appid, 40125 wrong secret);
- ``POST /cgi-bin/message/template/send?access_token`` (JSON ``touser, template_id, url,
  data``) → ``{errcode: 0, errmsg: "ok", msgid}``;
- ``GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`` →
  ``{access_token, expires_in, refresh_token, openid, scope}`` (40029 invalid code,
  40163 code already used);
- ``GET /cgi-bin/media/get?access_token&media_id`` → the file, or 40007 invalid media id;
- ``GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope&state`` →
  302 to ``redirect_uri?code=CODE&state=STATE`` for the user ``authorize_as`` names;
- ``POST /cgi-bin/menu/create?access_token`` (JSON ``{"button": [...]}``) → ``{errcode: 0}``,
  the menu kept in ``menu``; sizes checked as WeChat documents them, in UTF-8 bytes: 1–3
  buttons (40016), a name ≤ 16 bytes (40018), 1–5 sub-buttons (40023), a sub-button name
  ≤ 60 bytes (40025), a known type (40017, 40024), a view's url ≤ 1024 bytes (40020, 40027).

Every call with an access token checks it: missing 41001, unknown 40001, expired 42001.

Knobs: ``followers`` (openids that follow the account; other openids: 40003),
``unsubscribed`` (followers who unfollowed: 43004), ``quota_exhausted`` (45009 on sends),
``media`` (id → (bytes, content type)), ``codes`` (code → openid, or ``code_for(openid)``),
``authorize_as`` (openid of the next web authorisation), ``fail_next(path, errcode,
times)`` (injected errors, before anything else), ``expire_tokens()`` (every issued token
expires: 42001), ``invalidate_tokens()`` (40001). Records: ``token_requests`` (count),
``sends`` (the JSON bodies accepted; a repeated ``client_msg_id`` to the same openid is
answered with the first msgid and not sent again, as WeChat does), ``requests`` (method, path). ``stop()`` and
``start()`` take it off the network and put it back on the same port.
"""

import itertools
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40007: "invalid media_id",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40027: "invalid sub button url size",
    47001: "data format error",
}
MENU_TYPES = {
    "click", "view", "scancode_push", "scancode_waitmsg", "pic_sysphoto",
    "pic_photo_or_album", "pic_weixin", "location_select", "media_id", "article_id",
    "article_view_limited", "miniprogram",
}  # fmt: skip


class FakeWeChat:
    def __init__(self, *, app_id: str = "wx-test-app", app_secret: str = "test-secret"):
        self.app_id = app_id
        self.app_secret = app_secret
        self.expires_in = 7200
        self.lock = threading.Lock()
        self.valid_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.token_requests = 0
        self.followers: set[str] = set()
        self.unsubscribed: set[str] = set()
        self.quota_exhausted = False
        self.templates: set[str] | None = None  # None: every template id exists
        self.media: dict[str, tuple[bytes, str]] = {}
        self.codes: dict[str, str] = {}
        self.used_codes: set[str] = set()
        self.authorize_as: str | None = None
        self.injected: list[tuple[str, int]] = []
        self.sends: list[dict] = []
        self.delivered: dict[tuple, int] = {}
        self.requests: list[tuple[str, str]] = []
        self.menu: dict | None = None
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- life ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeWeChat":
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- knobs --------------------------------------------------------------------------

    def follow(self, openid: str) -> str:
        with self.lock:
            self.followers.add(openid)
            self.unsubscribed.discard(openid)
        return openid

    def code_for(self, openid: str) -> str:
        code = f"code-{next(self._ids)}"
        with self.lock:
            self.codes[code] = openid
        return code

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        with self.lock:
            self.injected.extend([(path, errcode)] * times)

    def expire_tokens(self) -> None:
        with self.lock:
            self.expired_tokens |= self.valid_tokens
            self.valid_tokens = set()

    def invalidate_tokens(self) -> None:
        with self.lock:
            self.valid_tokens = set()

    # -- protocol -----------------------------------------------------------------------

    def _injected(self, path: str) -> int | None:
        with self.lock:
            for i, (where, code) in enumerate(self.injected):
                if where == path:
                    del self.injected[i]
                    return code
        return None

    def _token_check(self, query: dict) -> int:
        token = query.get("access_token", "")
        with self.lock:
            if not token:
                return 41001
            if token in self.valid_tokens:
                return 0
            return 42001 if token in self.expired_tokens else 40001

    def handle(self, method: str, path: str, query: dict, body: bytes):
        """Return ``(status, headers, body)`` for one request."""
        with self.lock:
            self.requests.append((method, path))
            if path == "/cgi-bin/token":
                self.token_requests += 1
        injected = self._injected(path)
        if injected is not None:
            return _error(injected)
        if path == "/cgi-bin/token" and method == "GET":
            return self._token(query)
        if path == "/cgi-bin/message/template/send" and method == "POST":
            return self._send(query, body)
        if path == "/sns/oauth2/access_token" and method == "GET":
            return self._oauth(query)
        if path == "/cgi-bin/media/get" and method == "GET":
            return self._media(query)
        if path == "/connect/oauth2/authorize" and method == "GET":
            return self._authorize(query)
        if path == "/cgi-bin/menu/create" and method == "POST":
            return self._menu_create(query, body)
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _token(self, query):
        if query.get("grant_type") != "client_credential":
            return _error(40002)
        if query.get("appid") != self.app_id:
            return _error(40013)
        if query.get("secret") != self.app_secret:
            return _error(40125)
        token = f"ACCESS_{next(self._ids)}_{'x' * 40}"
        with self.lock:
            # A new token replaces the previous one (WeChat keeps the old one 5 minutes;
            # here it stays valid until expired or invalidated, the same for a client).
            self.valid_tokens.add(token)
        return _ok({"access_token": token, "expires_in": self.expires_in})

    def _send(self, query, body):
        refused = self._token_check(query)
        if refused:
            return _error(refused)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(47001)
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            return _error(47001)
        openid = payload.get("touser", "")
        with self.lock:
            if self.templates is not None and payload.get("template_id") not in self.templates:
                return _error(40037)
            if openid in self.unsubscribed:
                return _error(43004)
            if openid not in self.followers:
                return _error(40003)
            if self.quota_exhausted:
                return _error(45009)
            # client_msg_id: one message per openid and id (WeChat: within 10 minutes).
            dedupe = (
                (openid, payload.get("client_msg_id")) if payload.get("client_msg_id") else None
            )
            if dedupe in self.delivered:
                return _ok({"errcode": 0, "errmsg": "ok", "msgid": self.delivered[dedupe]})
            msgid = next(self._ids)
            self.sends.append(payload)
            if dedupe:
                self.delivered[dedupe] = msgid
        return _ok({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    def _oauth(self, query):
        if query.get("appid") != self.app_id:
            return _error(40013)
        if query.get("secret") != self.app_secret:
            return _error(40125)
        code = query.get("code", "")
        with self.lock:
            if code in self.used_codes:
                return _error(40163)
            openid = self.codes.pop(code, None)
            if openid is None:
                return _error(40029)
            self.used_codes.add(code)
        return _ok(
            {
                "access_token": f"WEB_{next(self._ids)}",
                "expires_in": 7200,
                "refresh_token": f"REFRESH_{next(self._ids)}",
                "openid": openid,
                "scope": "snsapi_base",
            }
        )

    def _media(self, query):
        refused = self._token_check(query)
        if refused:
            return _error(refused)
        item = self.media.get(query.get("media_id", ""))
        if item is None:
            return _error(40007)
        data, content_type = item
        return 200, {"Content-Type": content_type, "Content-Length": str(len(data))}, data

    def _menu_create(self, query, body):
        refused = self._token_check(query)
        if refused:
            return _error(refused)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(47001)
        buttons = payload.get("button") if isinstance(payload, dict) else None
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return _error(40016)
        for button in buttons:
            subs = button.get("sub_button")
            refused = _button_refused(button, 16, sub=False, has_subs=bool(subs))
            if refused:
                return _error(refused)
            if subs is not None and subs != []:
                if not isinstance(subs, list) or len(subs) > 5:
                    return _error(40023)
                for sub in subs:
                    refused = _button_refused(sub, 60, sub=True, has_subs=False)
                    if refused:
                        return _error(refused)
        with self.lock:
            self.menu = payload
        return _ok({"errcode": 0, "errmsg": "ok"})

    def _authorize(self, query):
        if query.get("appid") != self.app_id:
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, "appid 错误".encode()
        if query.get("response_type") != "code" or query.get("scope") not in (
            "snsapi_base",
            "snsapi_userinfo",
        ):
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, "scope 参数错误".encode()
        redirect = query.get("redirect_uri", "")
        if not redirect or self.authorize_as is None:
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, b"no user"
        code = self.code_for(self.authorize_as)
        separator = "&" if "?" in redirect else "?"
        location = (
            redirect
            + separator
            + urllib.parse.urlencode({"code": code, "state": query.get("state", "")})
        )
        return 302, {"Location": location, "Content-Length": "0"}, b""


def _button_refused(button, name_max: int, *, sub: bool, has_subs: bool) -> int:
    """WeChat's errcode for one button of a menu, or 0."""
    name = button.get("name") if isinstance(button, dict) else None
    if not isinstance(name, str) or not 0 < len(name.encode("utf-8")) <= name_max:
        return 40025 if sub else 40018
    if has_subs:  # a top-level button holding sub-buttons has no type of its own
        return 0
    if button.get("type") not in MENU_TYPES:
        return 40024 if sub else 40017
    url = button.get("url", "")
    if button["type"] == "view" and not (isinstance(url, str) and 0 < len(url.encode()) <= 1024):
        return 40027 if sub else 40020
    return 0


def _ok(answer: dict):
    return 200, {"Content-Type": "application/json; encoding=utf-8"}, json.dumps(answer).encode()


def _error(code: int):
    message = ERRMSG.get(code, "error")
    return _ok({"errcode": code, "errmsg": f"{message} rid: fake-{code}"})


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeWeChat
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: pytest shows the test's own output
        pass

    def _answer(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.server_fake.handle(method, parsed.path, query, body)
        self.send_response(status)
        headers.setdefault("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")
