"""CORS with flask-cors: browser apps on other origins may call the mock and read its headers."""

from flask import Response, request
from flask_cors import CORS

from conversations_mock.data.cache import BoundedCache

# What a browser client sends beyond the CORS-safelisted headers, and what its script may read.
# X-Mock-Namespace and Authorization: a browser app picks its namespace, a browser test drives the control API.
ALLOW_HEADERS = ("X-API-Key", "Prefer", "Content-Type", "X-Request-ID", "X-Mock-Namespace", "Authorization")
EXPOSE_HEADERS = ("X-Total-Count", "Link", "X-Request-ID", "Preference-Applied", "Retry-After")
# Browsers cache a preflight this long (seconds), so each page load costs one request, not two.
PREFLIGHT_MAX_AGE = 600


def init_app(app):
    """Answer preflight requests and add the CORS headers to every response, errors included.

    Returns a function of the environ giving the headers learnt for the request's Origin (None
    before the first answer to it), for the fast path to add the same ones.
    """
    origins = list(app.config["SETTINGS"]["cors_origins"])
    any_origin = "*" in origins
    CORS(
        app,
        origins="*" if any_origin else origins,
        # Any origin: a plain "*" that caches can share; listed origins: the request's, with Vary.
        send_wildcard=any_origin,
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        methods=["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST"],  # the last three: the control API
        max_age=PREFLIGHT_MAX_AGE,
        # Error responses come from our handlers; flask-cors must add its headers to those too.
        intercept_exceptions=True,
        # Keys travel in X-API-Key, never in cookies: no credentialed requests.
        supports_credentials=False,
    )
    return _learn_headers_per_origin(app)


def _learn_headers_per_origin(app):
    """Memoise the headers flask-cors adds to an ordinary (not preflight) answer.

    They depend only on the request's Origin and its private-network request header (every path
    matches the one resource, "/*"), and flask-cors builds them afresh for each response: its
    answer for each such pair is learnt once, on a blank response, and added again in the same
    order. Preflights, and responses that already carry CORS headers, go to flask-cors itself.
    Returns the function that recalls what was learnt for a request.
    """
    functions = app.after_request_funcs.setdefault(None, [])
    add_cors = functions[-1]  # the function CORS() has just registered
    learnt = BoundedCache(256)

    def learnt_for(environ):
        """The headers learnt for this request's Origin, or None before the first answer to it."""
        return learnt.recall(_asked(environ))

    def add_learnt(response):
        environ = request.environ
        if environ.get("REQUEST_METHOD") == "OPTIONS" or "Access-Control-Allow-Origin" in response.headers:
            return add_cors(response)
        key = _asked(environ)
        added = learnt.recall(key)
        if added is None:
            blank = Response()
            before = len(blank.headers)
            added = learnt.remember(key, tuple(add_cors(blank).headers.to_wsgi_list()[before:]))
        for name, value in added:
            response.headers.add(name, value)
        return response

    add_learnt.__wrapped__ = add_cors
    functions[-1] = add_learnt
    return learnt_for


def _asked(environ) -> tuple:
    """What flask-cors's answer to an ordinary request depends on: its Origin and private-network ask."""
    return environ.get("HTTP_ORIGIN"), environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK")
