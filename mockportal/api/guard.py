"""Who may drive the portal, and from where.

A portal on the developer's machine is reachable from every web page their browser opens.
Two checks keep such a page out:

- **Host** (every request, every path): the `Host` header must name this server, as a
  loopback name or the bound address with the port the request came in on, or the
  `--public-url` a proxy serves it under. A DNS-rebinding page talks to 127.0.0.1 under its
  own name, so its `Host` is that name, and it is refused with 421 `host_not_allowed`. That
  also makes every absolute URL the portal builds (`verification_uri`, `recoveryUrl`) a served
  one: they come from `served_origin()`, the origin this check accepted.
- **JSON-only writes** (blueprints that ask for it: the control plane): a write must say
  `Content-Type: application/json`, which a cross-site form or a CORS-simple `fetch` cannot
  send, so a page cannot forge one (415 `unsupported_media_type`). A view that is an HTML
  form's action opts out with `@form_action(csrf_check)`, naming the check of its own CSRF
  token, which then runs before the view.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, request

from mockportal.errors import InvalidRequest, Misdirected, render
from mockportal.wire import is_ascii_digits

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
DEFAULT_PORTS = {"http": 80, "https": 443}
READS = frozenset({"GET", "HEAD"})
# A Host header: a bracketed IPv6 address or a DNS name / IPv4 address, then an optional port.
# ASCII only, by construction: `[0-9]`, never `\d` (which matches every Unicode digit).
_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<name>[A-Za-z0-9._-]+))(?::(?P<port>[0-9]{1,5}))?")


@dataclass(frozen=True)
class Origin:
    """`scheme://host[:port]`, as a client reaches the portal."""

    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS.get(self.scheme) == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")


def parse_public_url(url: str) -> Origin:
    """`--public-url`: an http(s) origin a proxy serves the portal under, nothing after it.
    ValueError, saying why, for anything else."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/")
            or parts.query or parts.fragment or parts.username or port == -1
            or not _HOST.fullmatch(parts.netloc.rpartition("@")[2])):
        raise ValueError(f"{url!r} is not an http(s) origin like https://portal.example:8443")
    return Origin(parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme])


def is_loopback(host: str) -> bool:
    """Whether a bind address only this machine can reach (`localhost`, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ServedHosts:
    """The names this portal answers to: loopback names and the bound address on the port a
    request came in on, and the public URL's origin."""

    def __init__(self, bind_host: str | None = None, public_url: str | None = None):
        names = set(LOOPBACK_NAMES)
        if bind_host:  # a wildcard too: the banner's URL names it, and an IP is no rebinding name
            names.add(bind_host.strip("[]").lower())
        self._local_names = frozenset(names)
        self.public = parse_public_url(public_url) if public_url else None

    def origin(self, host_header: str, scheme: str, served_port: str) -> Origin | None:
        """The origin a request with this `Host` came through, or None if it is not ours."""
        match = _HOST.fullmatch(host_header)
        if match is None:
            return None
        host = (match["v6"] or match["name"]).lower()
        port = int(match["port"]) if match["port"] else None
        public = self.public
        if public is not None and host == public.host and port in (None, public.port):
            if port is not None or public.port == DEFAULT_PORTS[public.scheme]:
                return public
        if host in self._local_names and is_ascii_digits(served_port):
            if (DEFAULT_PORTS.get(scheme) if port is None else port) == int(served_port):
                return Origin(scheme, host, int(served_port))
        return None


def check_host() -> Response | None:
    """Every request: its `Host` must be one this portal serves (see the module docstring).
    A refusal is answered here, as JSON, before any blueprint (the approval page would render
    its own HTML error page for a raised one)."""
    served: ServedHosts = current_app.extensions["served_hosts"]
    host = request.environ.get("HTTP_HOST", "")
    origin = served.origin(host, request.scheme, request.environ.get("SERVER_PORT", ""))
    if origin is None:
        public = f" or {served.public}" if served.public else ""
        return render(Misdirected("host_not_allowed",
                                  f"Host {host[:100]!r} is not a name this portal serves: use localhost, "
                                  f"127.0.0.1 or [::1] with its port{public}. Behind a proxy, start it "
                                  "with --public-url."))
    g.served_origin = origin
    return None


def served_origin() -> str:
    """The origin of this request, as the Host check accepted it: the base of every absolute
    URL the portal hands out."""
    return str(g.served_origin)


# -- JSON-only writes -------------------------------------------------------------------------
def require_json_writes(bp: Blueprint) -> None:
    """Every write to `bp` (any method but GET and HEAD) must be `Content-Type:
    application/json`, even without a body, unless its view is a `form_action`."""
    bp.before_request(_json_writes_only)


def _json_writes_only() -> None:
    if request.method in READS or getattr(current_app.view_functions.get(request.endpoint), "form_action", False):
        return
    if request.mimetype != "application/json":
        raise InvalidRequest("unsupported_media_type",
                             "Control-plane writes must be sent as Content-Type: application/json.",
                             status=415)


def form_action(csrf_check: Callable[[], None]):
    """Decorator for an HTML form's action on a JSON-only blueprint: forms may post to it, and
    `csrf_check` (which raises unless the form carries this session's CSRF token) runs first.
    Put it under the route decorator:

        @bp.post("/dashboard/reset")
        @form_action(check_dashboard_csrf)
        def dashboard_reset(): ...
    """
    def exempt(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            csrf_check()
            return view(*args, **kwargs)

        checked.form_action = True
        return checked

    return exempt


# -- secrets -----------------------------------------------------------------------------------
def secret_bytes(text: str) -> bytes:
    """A secret as bytes to compare or hash, whatever it holds (a control token from the
    command line may hold lone surrogates: bytes the locale could not decode)."""
    return text.encode("utf-8", "surrogatepass")


def same_secret(sent: str, expected: str) -> bool:
    """Constant-time equality of two texts, whatever characters either holds
    (`hmac.compare_digest` raises on non-ASCII text)."""
    return hmac.compare_digest(secret_bytes(sent), secret_bytes(expected))


def same_header_secret(header: str, expected: str) -> bool:
    """`same_secret` for a header value, which is its raw bytes as Latin-1 (WSGI's convention):
    a client sends the secret's UTF-8."""
    try:
        sent = header.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(sent, secret_bytes(expected))
