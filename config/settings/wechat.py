"""
WeChat official account (the ``wechat`` app; README: the variables, deploy/: what to
register on the WeChat side). All empty by default: WeChat is off and Linli works without it
(``wechat.conf.wechat_enabled``).
"""

import environ

env = environ.Env()

# The official account's AppID and AppSecret (mp.weixin.qq.com → Settings and development).
WECHAT_APP_ID = env.str("WECHAT_APP_ID", default="")
WECHAT_APP_SECRET = env.str("WECHAT_APP_SECRET", default="")
# Token of the callback's signature, as typed in the account's server configuration.
WECHAT_TOKEN = env.str("WECHAT_TOKEN", default="")
# EncodingAESKey (43 characters) of the safe mode; empty: plaintext mode.
WECHAT_ENCODING_AES_KEY = env.str("WECHAT_ENCODING_AES_KEY", default="")
# Where the API and the web authorisation live (tests point them at a local fake server).
WECHAT_API_BASE = env.str("WECHAT_API_BASE", default="https://api.weixin.qq.com").rstrip("/")
WECHAT_OPEN_BASE = env.str("WECHAT_OPEN_BASE", default="https://open.weixin.qq.com").rstrip("/")
# Template per message kind (or an outbox template name; "default" for the rest), as JSON:
# a template id, or {"id": …, "fields": {"thing1": "title", …}} (wechat.conf, README).
WECHAT_TEMPLATES: dict = env.json("WECHAT_TEMPLATES", default={})
# Seconds one call to WeChat may take (connect and each read).
WECHAT_TIMEOUT = env.float("WECHAT_TIMEOUT", default=10.0)
# Largest photo taken from WeChat's media store (WeChat's own limit for an image is 10 MB).
WECHAT_MEDIA_MAX_BYTES = env.int("WECHAT_MEDIA_MAX_BYTES", default=10 * 1024 * 1024)
# A message WeChat cannot take (unreachable, busy) is retried with the outbox's backoff this
# many hours, then sent by email or SMS instead (a refusal falls back at once).
WECHAT_RETRY_HOURS = env.float("WECHAT_RETRY_HOURS", default=1.0)

# Callbacks (wechat/callbacks.py): the largest body taken (WeChat's messages are a few KB),
# how far a callback's timestamp may be from now, the (timestamp, nonce) pairs remembered
# that long against replay (core.replay).
WECHAT_CALLBACK_MAX_BYTES = env.int("WECHAT_CALLBACK_MAX_BYTES", default=64 * 1024)
WECHAT_CALLBACK_WINDOW = env.int("WECHAT_CALLBACK_WINDOW", default=300)
# A photo sent to the account (wechat/arrivals.py): hours its confirmation link works (no
# longer than a form attempt is kept, REGISTRATION_ATTEMPT_MAX_AGE_HOURS); download retries
# (1 min doubling to 1 h: 10 tries ≈ 5 h, within WeChat's 3 days); after how long the beat
# sweep queues again a download never picked up (longer than the longest retry wait).
WECHAT_ARRIVAL_LINK_HOURS = env.int("WECHAT_ARRIVAL_LINK_HOURS", default=24)
WECHAT_FETCH_MAX_RETRIES = env.int("WECHAT_FETCH_MAX_RETRIES", default=10)
WECHAT_FETCH_SWEEP_AFTER = env.int("WECHAT_FETCH_SWEEP_AFTER", default=2 * 60 * 60)

# Rate limits of what a stranger can reach, per client address (core.ratelimit; base.py adds
# them to RATE_LIMITS; docs/wechat-callbacks.md says why these numbers). Over one: HTTP 429.
WECHAT_RATE_LIMITS = {
    # WeChat's own servers: a few addresses carry every follower's messages and events, each
    # tried up to 3 times; 10 a second from one address is far above a station's account.
    "wechat-callback": {"limit": 600, "window": 60},
    # "My registration" (two requests an opening, each writes the session); linking and
    # unlinking; a photo's confirmation page and its thumbnail.
    "wechat-my": {"limit": 60, "window": 60 * 60},
    "wechat-bind": {"limit": 30, "window": 60 * 60},
    "wechat-arrival": {"limit": 120, "window": 60 * 60},
}

# What other apps add to the resident's private page (registration.views.private): dotted
# paths of ``panel(*, request, registration, token) -> dict | None``. The WeChat panel offers
# linking inside WeChat and shows a link with its "Unlink" button (nothing while WeChat is off).
REGISTRATION_PRIVATE_PANELS = ["wechat.panels.private_panel"]
# The same for the station page (stations.views.station): ``panel(*, request, code)``.
STATION_PAGE_PANELS = ["wechat.panels.station_panel"]

# How WeChat plugs into the apps it builds on, which never import it (core.extensions):
# who is reached in WeChat, a pair of dotted paths per route taken instead of email and SMS —
# ``route(resident) -> (channel, to) | None`` for registration.selectors.resident_routes and
# its set-query twin ``route_sql(resident_id_sql, params) -> (linked, channel, to) | None``
# for resident_routes_sql (tests/registration/test_reminder_sets.py compares them);
RESIDENT_ROUTE_EXTENSIONS = [
    ("wechat.channel.wechat_resident_route", "wechat.channel.wechat_route_sql")
]
# what erasing a resident's contact also erases (registration.services.erasure):
# ``hook(*, resident)``, called as the resident is anonymised;
RESIDENT_ERASE_HOOKS = ["wechat.services.wechat_links_erase"]
# the outbox's sender of a channel, ``(message, rendered) -> reference``, beside those of
# notifications.services.channels, and where a message its channel gave up goes instead
# (``(message) -> (channel, to) | None``, notifications.services.fallback).
CHANNEL_SENDER_EXTENSIONS = {"wechat": "wechat.channel.wechat_send"}
CHANNEL_FALLBACK_EXTENSIONS = {"wechat": "wechat.channel.wechat_fallback_route"}
