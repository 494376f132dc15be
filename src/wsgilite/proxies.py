"""Proxies: believe the X-Forwarded-* headers of the proxies in front of the app, and no one else's.

Behind nginx, the app sees nginx's address, `http` and whatever Host nginx used. nginx tells the
truth in `X-Forwarded-For`, `-Proto`, `-Host`, `-Port` and `-Prefix`; `trust_proxies(app)` wraps
the app in werkzeug's `ProxyFix`, so `request.remote_addr`, `request.scheme`, `request.host` and
`request.url_for(..., _external=True)` are the client's. A request that does not come from a
trusted proxy address has those headers removed, since anyone can send them. The App is not
changed: this is a WSGI wrapper the core never imports.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from werkzeug.test import Client

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = ("127.0.0.0/8", "::1/128")
_FORWARDED = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_FORWARDED",
)


class TrustedProxies:
    """A WSGI app: ProxyFix for requests from `peers`, the headers stripped for anyone else."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
        peers: Iterable[str] | None = LOOPBACK,
    ) -> None:
        counts = {"x_for": x_for, "x_proto": x_proto, "x_host": x_host, "x_port": x_port,
                  "x_prefix": x_prefix}  # fmt: skip
        for name, count in counts.items():
            if not isinstance(count, int) or count < 0:
                raise ValueError(
                    f"trust_proxies({name}={count!r}): give how many proxies in front of the app "
                    "set that header (1 for nginx alone, 0 to ignore it)"
                )
        self.app = app
        self.fixed = ProxyFix(app, **counts)
        self.peers: tuple[Network, ...] | None = None
        if peers is not None:
            self.peers = tuple(ipaddress.ip_network(peer, strict=False) for peer in peers)

    def trusts(self, address: str | None) -> bool:
        """Tell whether a request from `address` comes through a trusted proxy."""
        if self.peers is None:
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:  # a Unix socket has no address: only the proxy can reach it
            return address in (None, "")
        return any(ip in network for network in self.peers)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request, with the client's address, scheme and host when trusted."""
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        for key in _FORWARDED:
            environ.pop(key, None)  # a client's own X-Forwarded-For is a lie until proven
        return self.app(environ, start_response)

    def test_client(self, use_cookies: bool = True) -> Client:
        """Return werkzeug's test `Client` over the wrapped app."""
        from werkzeug.test import Client

        return Client(self, use_cookies=use_cookies)


def trust_proxies(
    app: WSGIApplication,
    *,
    x_for: int = 1,
    x_proto: int = 1,
    x_host: int = 0,
    x_port: int = 0,
    x_prefix: int = 0,
    peers: Iterable[str] | None = LOOPBACK,
) -> TrustedProxies:
    """Return `app` behind werkzeug's ProxyFix for requests from `peers` (None: from anyone).

    application = trust_proxies(app, x_for=1, x_proto=1, x_host=1)  # gunicorn wsgi:application
    """
    return TrustedProxies(app, x_for=x_for, x_proto=x_proto, x_host=x_host, x_port=x_port,
                          x_prefix=x_prefix, peers=peers)  # fmt: skip
