"""CORS with flask-cors: browser apps on other origins may call the mock and read its headers."""

from flask_cors import CORS

# What a browser client sends beyond the CORS-safelisted headers, and what its script may read.
ALLOW_HEADERS = ("X-API-Key", "Prefer", "Content-Type", "X-Request-ID")
EXPOSE_HEADERS = ("X-Total-Count", "Link", "X-Request-ID", "Preference-Applied", "Retry-After")
# Browsers cache a preflight this long (seconds), so each page load costs one request, not two.
PREFLIGHT_MAX_AGE = 600
# app.extensions key of the function giving the headers learnt for a request's Origin.
REMEMBERED = "cors.remembered"


def init_app(app):
    """Answer preflight requests and add the CORS headers to every response, errors included."""
    origins = list(app.config["SETTINGS"]["cors_origins"])
    any_origin = "*" in origins
    CORS(
        app,
        origins="*" if any_origin else origins,
        # Any origin: a plain "*" that caches can share; listed origins: the request's, with Vary.
        send_wildcard=any_origin,
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        methods=["GET", "HEAD", "OPTIONS"],
        max_age=PREFLIGHT_MAX_AGE,
        # Error responses come from our handlers; flask-cors must add its headers to those too.
        intercept_exceptions=True,
        # Keys travel in X-API-Key, never in cookies: no credentialed requests.
        supports_credentials=False,
    )
    _remember_answers(app)


def _remember_answers(app):
    """Memoise the headers flask-cors adds to an ordinary (not preflight) answer.

    They depend only on the request's Origin (and the private-network request header): every
    path matches the one resource, "/*". flask-cors builds them afresh for each response
    (~35 us, a tenth of a new page's cost), so its answer for each origin is learnt once, on a
    blank response, and added again in the same order. Preflights, and responses that already
    carry CORS headers, go to flask-cors itself.
    """
    from conversations_mock.data.catalogue import BoundedCache
    from flask import Response, request

    functions = app.after_request_funcs.setdefault(None, [])
    add_cors = functions[-1]  # the function CORS() has just registered
    learnt = BoundedCache(256)

    def remembered(environ):
        """The headers learnt for this request's Origin, or None before the first answer to it."""
        return learnt.recall((environ.get("HTTP_ORIGIN"), environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK")))

    def add_remembered(response):
        environ = request.environ
        if environ.get("REQUEST_METHOD") == "OPTIONS" or "Access-Control-Allow-Origin" in response.headers:
            return add_cors(response)
        key = (environ.get("HTTP_ORIGIN"), environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"))
        added = learnt.recall(key)
        if added is None:
            blank = Response()
            before = len(blank.headers)
            added = learnt.remember(key, tuple(add_cors(blank).headers.to_wsgi_list()[before:]))
        for name, value in added:
            response.headers.add(name, value)
        return response

    add_remembered.__wrapped__ = add_cors
    functions[-1] = add_remembered
    # The direct lane (app/direct.py) adds the same headers to the answers it makes without Flask.
    app.extensions[REMEMBERED] = remembered
