"""CORS with flask-cors: pages on other origins may call the API; the control API, only local pages.

Two resources: the API (every path but the control API's) answers the origins of cors_origins
(default any); the control API (/__mock/..., and whatever else comes to live there, such as a
dashboard) answers loopback pages and control_origins only. A browser sends a cross-origin POST
of a form or plain text without asking first (a "simple" request), so CORS alone would let any
page reset the mock's data: a write to the control API carrying an Origin not allowed is refused
here with a 403 before anything runs. Clients that send no Origin (test runners, curl, Node,
Playwright's request API) are not browsers' pages and are not concerned.
"""

import re

from flask import Response, request
from flask_cors import CORS

from conversations_mock.data.cache import BoundedCache
from conversations_mock.schemas.control import CONTROL_PREFIX
from conversations_mock.settings import SETTINGS
from conversations_mock.web.problems import Problem

# What a browser client sends beyond the CORS-safelisted headers, and what its script may read.
# X-Mock-Namespace and Authorization: a browser app picks its namespace, a browser test drives the control API.
ALLOW_HEADERS = ("X-API-Key", "Prefer", "Content-Type", "X-Request-ID", "X-Mock-Namespace", "Authorization")
# WWW-Authenticate: a 401's challenge names the header (or token) a script should send. The rate limit's
# headers (web/limits.py HEADERS): a browser app throttles itself by them.
EXPOSE_HEADERS = (
    "X-Total-Count", "Link", "X-Request-ID", "Preference-Applied", "Retry-After", "WWW-Authenticate",
    "RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
    "X-Mock-Clock",
)
# app.extensions key of the CORS headers of an answer to a request that was never parsed (web/worker.py).
UNPARSED = "cors_unparsed"
# Browsers cache a preflight this long (seconds), so each page load costs one request, not two.
PREFLIGHT_MAX_AGE = 600
# The control API's paths, as Flask sees them: the namespace prefix /__mock/ns/NAME has moved to
# SCRIPT_NAME (web/namespaces.py), so the API under it is the API here, and a control path after it
# is the control API's. flask-cors tries resources in the order it sorts them: this one first.
CONTROL_PATHS = re.compile(re.escape(CONTROL_PREFIX) + r"(?:/|\Z)")
API_PATHS = re.compile(r".*")
# Pages served from this machine: the developer's own dev servers (Vite, webpack, a test page).
LOOPBACK_ORIGINS = re.compile(r"http://(?:localhost|127\.0\.0\.1|\[::1\])(?::[0-9]{1,5})?\Z", re.IGNORECASE)
LOOPBACK_ORIGINS_TEXT = "http://localhost, http://127.0.0.1 and http://[::1], any port"
# Methods that change the control API's data (GET, HEAD and OPTIONS only read).
_WRITES = frozenset(("PUT", "POST", "DELETE", "PATCH"))


def init_app(app):
    """Answer preflight requests and add the CORS headers to every response, errors included.

    Returns a function of the environ giving the headers learnt for the request's Origin (None
    before the first answer to it), for the fast path to add the same ones.
    """
    settings = app.config["SETTINGS"]
    origins = list(settings["cors_origins"])
    any_origin = "*" in origins
    control_origins = [LOOPBACK_ORIGINS, *settings["control_origins"]]
    CORS(
        app,
        resources={
            CONTROL_PATHS: {"origins": control_origins, "send_wildcard": False},
            # Any origin: a plain "*" that caches can share; listed origins: the request's, and every
            # answer says Vary: Origin (_varying_on_origin).
            API_PATHS: {"origins": "*" if any_origin else origins, "send_wildcard": any_origin},
        },
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
    # The control API's answers always depend on the Origin; the API's when origins are listed.
    app.after_request_funcs[None][-1] = _varying_on_origin(app.after_request_funcs[None][-1], not any_origin)
    learnt_for = _learn_headers_per_origin(app)
    app.extensions[UNPARSED] = _headers_for_an_unknown_origin(app, any_origin)
    refuse = _refuse_foreign_writes(settings["control_origins"])
    app.before_request_funcs.setdefault(None, []).insert(0, refuse)
    return learnt_for


def is_control_path(path: str) -> bool:
    """Whether Flask's request.path (the namespace prefix taken off) is the control API's."""
    return CONTROL_PATHS.match(path) is not None


def _refuse_foreign_writes(control_origins):
    """A before_request function: a write to the control API from a page of an origin not allowed is a 403.

    Allowed: no Origin (not a page), the mock's own origin (a page it served, such as a dashboard),
    loopback origins and `control_origins`.
    """
    listed = frozenset(origin.lower() for origin in control_origins)

    def refuse_foreign_writes():
        origin = request.headers.get("Origin")
        if origin is None or request.method not in _WRITES or not is_control_path(request.path):
            return
        lowered = origin.lower()
        if lowered in listed or LOOPBACK_ORIGINS.match(origin) or lowered == f"{request.scheme}://{request.host}".lower():
            return
        raise Problem(
            403,
            f"A page from {origin!r} may not change the control API's data: browsers send this request "
            "from any site's page without asking, so only this mock's own origin, "
            f"{LOOPBACK_ORIGINS_TEXT}, and the origins of {SETTINGS['control_origins'].label()} may. "
            "Nothing was changed.",
        )

    return refuse_foreign_writes


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


def _varying_on_origin(add_cors, api_varies):
    """flask-cors's after_request function `add_cors`, adding Vary: Origin to every answer that depends on it.

    The control API's answers always do; the API's when `api_varies` (listed origins).

    With listed origins every answer depends on the request's Origin, a refused origin's (no
    Access-Control-Allow-Origin) too, but flask-cors says so only on some: for one listed origin
    never, and never to a refused one. A cache would then hand a refused origin's answer to an
    allowed one.
    """

    def add_cors_varying(response):
        response = add_cors(response)
        if not api_varies and not is_control_path(request.path):
            return response
        varies = ",".join(response.headers.getlist("Vary")).lower().split(",")
        if "origin" not in (item.strip() for item in varies):
            response.headers.add("Vary", "Origin")
        return response

    return add_cors_varying


def _learn_headers_per_origin(app):
    """Memoise the headers flask-cors adds to an ordinary (not preflight) answer.

    They depend only on the resource (the API or the control API), the request's Origin and its
    private-network request header, and flask-cors builds them afresh for each response: its
    answer for each is learnt once, on a blank response, and added again in the same order.
    Preflights, and responses that already carry CORS headers, go to flask-cors itself.
    Returns the function that recalls what was learnt for a request to the API (the fast path's).
    """
    functions = app.after_request_funcs.setdefault(None, [])
    add_cors = functions[-1]  # the function CORS() has just registered (made to vary on Origin)
    learnt, learnt_for_control = BoundedCache(256), BoundedCache(256)

    def learnt_for(environ):
        """The headers learnt for this API request's Origin, or None before the first answer to it."""
        return learnt.recall(_asked(environ))

    def add_learnt(response):
        environ = request.environ
        if environ.get("REQUEST_METHOD") == "OPTIONS" or "Access-Control-Allow-Origin" in response.headers:
            return add_cors(response)
        memo = learnt_for_control if is_control_path(request.path) else learnt
        key = _asked(environ)
        added = memo.recall(key)
        if added is None:
            added = memo.remember(key, _added_to_a_blank_response(add_cors))
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
