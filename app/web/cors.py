"""CORS with flask-cors: browser apps on other origins may call the mock and read its headers."""

from flask import Response, request
from flask_cors import CORS

from conversations_mock.data.cache import BoundedCache

# What a browser client sends beyond the CORS-safelisted headers, and what its script may read.
# X-Mock-Namespace and Authorization: a browser app picks its namespace, a browser test drives the control API.
ALLOW_HEADERS = ("X-API-Key", "Prefer", "Content-Type", "X-Request-ID", "X-Mock-Namespace", "Authorization")
# WWW-Authenticate: a 401's challenge names the header (or token) a script should send.
EXPOSE_HEADERS = (
    "X-Total-Count", "Link", "X-Request-ID", "Preference-Applied", "Retry-After", "WWW-Authenticate"
)
# app.extensions key of the CORS headers of an answer to a request that was never parsed (web/worker.py).
UNPARSED = "cors_unparsed"
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
        # Any origin: a plain "*" that caches can share; listed origins: the request's, and every
        # answer says Vary: Origin (_varying_on_origin).
        send_wildcard=any_origin,
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        methods=["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST"],  # the last three: the control API
        max_age=PREFLIGHT_MAX_AGE,
        # Error responses come from our handlers; flask-cors must add its headers to those too.
        intercept_exceptions=True,
        # Keys travel in X-API-Key, never in cookies: no credentialed requests.
        supports_credentials=False,
        # Chrome's Private Network Access: a page on a public site asks before it calls a loopback or
        # private address (Access-Control-Request-Private-Network: true); an allowed origin is told yes.
        allow_private_network=True,
    )
    if not any_origin:
        app.after_request_funcs[None][-1] = _varying_on_origin(app.after_request_funcs[None][-1])
    learnt_for = _learn_headers_per_origin(app)
    app.extensions[UNPARSED] = _headers_for_an_unknown_origin(app, any_origin)
    return learnt_for


def unparsed_headers(app) -> list[tuple[str, str]]:
    """The CORS headers of an answer to a request whose headers were never read (gunicorn's refusals).

    Any origin's, when any origin is allowed (the answer does not depend on it); none otherwise,
    since the request's Origin is unknown. `app` may be another WSGI app: it has none.
    """
    return list(getattr(app, "extensions", {}).get(UNPARSED, ()))


def _headers_for_an_unknown_origin(app, any_origin) -> tuple:
    """flask-cors's own headers for some origin, when any is allowed: the same for every origin."""
    if not any_origin:
        return ()
    add_cors = app.after_request_funcs[None][-1].__wrapped__
    with app.test_request_context("/", headers={"Origin": "null"}):
        return _added_to_a_blank_response(add_cors)


def _varying_on_origin(add_cors):
    """flask-cors's after_request function `add_cors`, adding Vary: Origin to every answer.

    With listed origins every answer depends on the request's Origin, a refused origin's (no
    Access-Control-Allow-Origin) too, but flask-cors says so only on some: for one listed origin
    never, and never to a refused one. A cache would then hand a refused origin's answer to an
    allowed one.
    """

    def add_cors_varying(response):
        response = add_cors(response)
        varies = ",".join(response.headers.getlist("Vary")).lower().split(",")
        if "origin" not in (item.strip() for item in varies):
            response.headers.add("Vary", "Origin")
        return response

    return add_cors_varying


def _learn_headers_per_origin(app):
    """Memoise the headers flask-cors adds to an ordinary (not preflight) answer.

    They depend only on the request's Origin and its private-network request header (every path
    matches the one resource, "/*"), and flask-cors builds them afresh for each response: its
    answer for each such pair is learnt once, on a blank response, and added again in the same
    order. Preflights, and responses that already carry CORS headers, go to flask-cors itself.
    Returns the function that recalls what was learnt for a request.
    """
    functions = app.after_request_funcs.setdefault(None, [])
    add_cors = functions[-1]  # the function CORS() has just registered (made to vary on Origin)
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
            added = learnt.remember(key, _added_to_a_blank_response(add_cors))
        for name, value in added:
            response.headers.add(name, value)
        return response

    add_learnt.__wrapped__ = add_cors
    functions[-1] = add_learnt
    return learnt_for


def _added_to_a_blank_response(add_cors) -> tuple:
    """The headers flask-cors's after_request function `add_cors` adds for the current request, in order."""
    blank = Response()
    before = len(blank.headers)
    return tuple(add_cors(blank).headers.to_wsgi_list()[before:])


def _asked(environ) -> tuple:
    """What flask-cors's answer to an ordinary request depends on: its Origin and private-network ask."""
    return environ.get("HTTP_ORIGIN"), environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK")
