"""werkzeug's ProxyFix, run only for a request that carries one of the X-Forwarded-* headers it trusts.

Most requests come straight from their client (a test runner, a page on localhost): for them ProxyFix
would change nothing, yet copy the environ's URL values aside on every request (docs/benchmarks.md).

Usage, as create_app stacks it::

    ForwardedOnly(wsgi_app, x_for=0, x_proto=1, x_host=1, x_port=1, x_prefix=1)
"""

from werkzeug.middleware.proxy_fix import ProxyFix

# ProxyFix's arguments and the environ key of the header each trusts.
_HEADERS = {"x_for": "HTTP_X_FORWARDED_FOR", "x_proto": "HTTP_X_FORWARDED_PROTO", "x_host": "HTTP_X_FORWARDED_HOST",
            "x_port": "HTTP_X_FORWARDED_PORT", "x_prefix": "HTTP_X_FORWARDED_PREFIX"}


class ForwardedOnly(ProxyFix):
    """ProxyFix for requests with a trusted X-Forwarded-* header; every other request passes untouched.

    :param app: the WSGI app behind it
    :param trusted: ProxyFix's x_for, x_proto, x_host, x_port and x_prefix (how many proxies' values to trust)
    """

    def __init__(self, app, **trusted):
        super().__init__(app, **trusted)
        self.headers = tuple(_HEADERS[name] for name, count in trusted.items() if count)

    def __call__(self, environ, start_response):
        for header in self.headers:
            if header in environ:
                return super().__call__(environ, start_response)
        return self.app(environ, start_response)
