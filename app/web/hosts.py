"""The Host check: a WSGI layer refusing requests addressed to a name the mock does not answer to.

A browser lets any website's page call loopback, and DNS rebinding makes the mock that page's own
origin: the page's name (evil.example) is made to resolve to 127.0.0.1, and its scripts then read
and drive the mock as a same-origin client, whatever CORS says. Its requests still say the page's
name in their Host header, which scripts cannot set: bound to a loopback address, the mock answers
only requests addressed to loopback names and addresses (localhost, *.localhost, 127.0.0.0/8, ::1)
or to the names of allowed_hosts, and a request addressed to any other is answered 421 Misdirected
Request, before anything else reads it (the API, the control API, the documents, the health check).
Bound to another address, allowed_hosts decides (none given: any host), as Django's ALLOWED_HOSTS.

The check reads the raw Host header, before ProxyFix replaces it with X-Forwarded-Host: a
rebinding page is same-origin, so it may send any X-Forwarded-Host it likes, but not its Host. A
forwarded host is trusted (for the URLs the mock writes, and its own origin) only after the Host
of the connection passed: a proxy in front answers for the names it serves. 421, not 403: the
request is not forbidden to its sender, it was sent to a server that does not answer for that
name (RFC 9110, 15.5.20), and it stays apart from the control API's 403s (token, Origin).

Usage, as create_app stacks it (outside ProxyFix)::

    HostCheck(wsgi_app, bound="127.0.0.1", allowed=("mock.example.test", ".example.test"))
"""

import ipaddress

from conversations_mock.schemas import PROBLEM_CONTENT_TYPE
from conversations_mock.settings import SETTINGS, is_loopback
from conversations_mock.web.problems import problem_body, title

STATUS = 421
# Distinct Host values remembered with their verdict (the memo starts over when full): clients send
# the same one again and again, and the verdict then costs a dict look-up.
MEMO_SIZE = 256


def host_name(host: str) -> str:
    """The name or address of a Host header's value, lowercase: port, IPv6 brackets and a final dot taken off."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        host = name
    return host.rstrip(".")


def is_loopback_name(name: str) -> bool:
    """Whether `name` (host_name's) is this machine: localhost, *.localhost (RFC 6761) or a loopback address."""
    return is_loopback(name) or name.endswith(".localhost")


def answers_any_host(bound: str, allowed=()) -> bool:
    """Whether a server bound to `bound` with these allowed_hosts answers any Host (then no layer is stacked).

    Bound past loopback with no names given it does, as before: the admin token guards the control API.
    """
    return "*" in allowed or (not is_loopback(bound) and not allowed)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostCheck:
    """WSGI layer: a request whose Host the mock does not answer to is refused 421 with a problem document.

    :param wsgi_app: what answers the requests allowed
    :param bound: the address or name the server binds (the host setting)
    :param allowed: the allowed_hosts setting: names, '.domain' for a domain and its subdomains, '*' for any
    """

    def __init__(self, wsgi_app, bound: str, allowed=()):
        self.wsgi_app = wsgi_app
        self.local = is_loopback(bound)
        allowed = [name.lower().rstrip(".") for name in allowed]
        self.any_host = answers_any_host(bound, allowed)
        self.names = frozenset(name for name in allowed if not name.startswith("."))
        self.domains = tuple(name for name in allowed if name.startswith("."))
        self._verdicts: dict[str, bool] = {}

    def __call__(self, environ, start_response):
        if self.any_host:
            return self.wsgi_app(environ, start_response)
        host = environ.get("HTTP_HOST")
        if host is None:  # HTTP/1.0 without a Host: no browser sends that, nor is any name given
            return self.wsgi_app(environ, start_response)
        allowed = self._verdicts.get(host)
        if allowed is None:
            allowed = self._remember(host)
        if allowed:
            return self.wsgi_app(environ, start_response)
        body = problem_body(STATUS, self.detail(host))
        start_response(f"{STATUS} {title(STATUS)}", [
            ("Content-Type", PROBLEM_CONTENT_TYPE), ("Content-Length", str(len(body)))])
        return [body]

    def allows(self, host: str) -> bool:
        """Whether a request with this Host header's value is answered."""
        name = host_name(host)
        # '.example.test' allows example.test and its subdomains, not badexample.test.
        if is_loopback_name(name) or name in self.names or ("." + name).endswith(self.domains):
            return True
        # Past loopback, an address is how a probe or a load balancer reaches a replica (Kubernetes'
        # probes send the pod's IP); a rebinding page always has a name.
        return not self.local and _is_address(name)

    def detail(self, host: str) -> str:
        """The problem's detail: the Host refused, what is answered, and the setting that adds names."""
        answered = "this machine's names and addresses (localhost, 127.0.0.1, [::1])" + (
            "" if self.local else " and IP addresses")
        return (
            f"This mock does not answer requests addressed to {host!r}: it answers {answered}"
            + "".join(f", {name}" for name in sorted([*self.names, *self.domains]))
            + f". A page whose name was made to point here (DNS rebinding) must not reach it; to serve "
            f"another name, add it to {SETTINGS['allowed_hosts'].label()}."
        )

    def _remember(self, host: str) -> bool:
        if len(self._verdicts) >= MEMO_SIZE:
            self._verdicts.clear()
        allowed = self._verdicts[host] = self.allows(host)
        return allowed
