"""
The client's address: one definition for rate limits, the login lockout and the logs.

A request reaches Linli either straight from the visitor or through our own proxy (nginx,
a load balancer), which appends the address it saw to ``X-Forwarded-For``. Anyone can send
that header, so it is believed only when the socket's peer is one of ``TRUSTED_PROXIES``;
then the hops are read from the right and the first one that is not a trusted proxy is the
client. Everything to its left was written by the client and is ignored.

``TRUSTED_PROXIES`` lists addresses or networks (``127.0.0.1``, ``10.0.0.0/24``, ``::1``)
and may contain ``unix`` for a proxy on gunicorn's Unix socket (such a peer has no
address). Empty, the default outside production, trusts nobody: the socket's address is
the client.
"""

import functools
import ipaddress

from django.conf import settings

UNIX_SOCKET = "unix"
# Headers only a trusted proxy may set: X-Forwarded-Proto decides request.is_secure()
# (SECURE_PROXY_SSL_HEADER).
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")
_PEER_KEY = "PROXY_REMOTE_ADDR"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[bool, tuple[Network, ...]]:
    """Return whether the Unix-socket peer is trusted, and the trusted networks."""
    unix = False
    networks = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        if entry == UNIX_SOCKET:
            unix = True
            continue
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError:  # production.py refuses to start with it; elsewhere trust less
            continue
    return unix, tuple(networks)


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def proxy_is_trusted(address: str) -> bool:
    """Return whether ``address`` (a socket peer or a hop) is one of ``TRUSTED_PROXIES``."""
    unix, networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not address:
        return unix
    parsed = _address(address)
    if parsed is None:
        return False
    ip = ipaddress.ip_address(parsed)
    return any(ip in network for network in networks)


def client_ip(request) -> str:
    """
    Return the client's IP address, believing ``X-Forwarded-For`` only from our proxies.

    Also django-axes' ``AXES_CLIENT_IP_CALLABLE``. Safe to call again after
    ``ClientIPMiddleware`` has put the answer into ``REMOTE_ADDR``.
    """
    meta = request.META
    peer = meta.get(_PEER_KEY, meta.get("REMOTE_ADDR", "")) or ""
    if not proxy_is_trusted(peer):
        return peer
    client = peer
    hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # not written by a proxy of ours: keep the last sure address
            return client
        client = address
        if not proxy_is_trusted(address):
            return address
    return client


class ClientIPMiddleware:
    """
    Put the client's address (``client_ip``) into ``REMOTE_ADDR`` for every later reader.

    The socket's peer is kept in ``META["PROXY_REMOTE_ADDR"]``. A request that did not come
    through a trusted proxy loses its ``X-Forwarded-*`` headers, so that nothing later (nor
    ``SECURE_PROXY_SSL_HEADER``) can believe them. Goes before anything reading the address.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if _PEER_KEY not in meta:
            peer = meta.get("REMOTE_ADDR", "") or ""
            address = client_ip(request)
            meta[_PEER_KEY] = peer
            meta["REMOTE_ADDR"] = address
            if not proxy_is_trusted(peer):
                for header in _PROXY_HEADERS:
                    meta.pop(header, None)
        return self.get_response(request)
