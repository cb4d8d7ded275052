"""CORS with flask-cors: browser apps on other origins may call the mock and read its headers."""

from flask_cors import CORS

# What a browser client sends beyond the CORS-safelisted headers, and what its script may read.
ALLOW_HEADERS = ("X-API-Key", "Prefer", "Content-Type", "X-Request-ID")
EXPOSE_HEADERS = ("X-Total-Count", "Link", "X-Request-ID", "Preference-Applied", "Retry-After")
# Browsers cache a preflight this long (seconds), so each page load costs one request, not two.
PREFLIGHT_MAX_AGE = 600


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
