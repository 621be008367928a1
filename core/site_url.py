"""
Whether ``SITE_URL`` is an address worth printing: the one inside every QR code.

A printed billboard hangs on a wall for years, and a resident scans it with a phone on the
mobile network. The address in its QR codes must therefore reach this portal from
anywhere, by name, encrypted: not this computer (``127.0.0.1``, ``localhost``), not an IP
address (private ones are unreachable from outside, public ones change with the server,
and neither has a certificate a phone trusts), not plain ``http://`` (WeChat warns about
such pages, and anyone on the way can read or change them). ``make run``'s default,
``http://127.0.0.1:8000``, is all three; production refuses to start without https
(config/settings/production.py), so this is for every other installation.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


def _ip_address(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def site_url_problems(url: str | None = None) -> list[str]:
    """
    Return why ``url`` (by default ``settings.SITE_URL``) is no address to print, in the
    reader's language; an empty list when it is fine.
    """
    url = settings.SITE_URL if url is None else url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:  # e.g. an unclosed "[" in an IPv6 address
        parts, host = None, ""
    problems = []
    if parts is None or parts.scheme.lower() != "https":
        problems.append(
            _(
                "It is not an https:// address: phones and WeChat warn that the page is "
                "not secure, and what residents send could be read on the way."
            )
        )
    ip = _ip_address(host)
    if not host:
        problems.append(_("It has no host name: the QR codes lead nowhere."))
    elif host == "localhost" or host.endswith(".localhost") or (ip and ip.is_loopback):
        problems.append(
            _("%(host)s is this computer itself: a phone that scans the QR code cannot reach it.")
            % {"host": host}
        )
    elif ip:
        problems.append(
            _(
                "%(host)s is an IP address, not a domain name: a private address cannot be "
                "reached from the mobile network, and a public one changes when the server "
                "moves, while the billboard stays on the wall."
            )
            % {"host": host}
        )
    return problems
