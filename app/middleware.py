"""Safe defaults on every response: a request id, nosniff, a bounded body and secret-free logs."""

import io
import logging
import re
import uuid
from urllib.parse import quote

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is echoed only if it is short printable ASCII: it ends up in a header and a log line.
REQUEST_ID_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")
# WSGI environ keys the access log reads (gunicorn_conf's access_log_format: %({mock.target}e)s).
TARGET_KEY = "mock.target"
REQUEST_ID_KEY = "mock.request_id"
TOO_LARGE_KEY = "mock.body_too_large"
MASK = "***"

# A key of the documented shape (48 hex digits) anywhere, and the value of any parameter named like a
# secret: a client that puts its key in a query string or a path must not find it in the server's log.
_HEX_SECRET = re.compile(r"[0-9A-Fa-f]{48,}")
_NAMED_SECRET = re.compile(r"(?i)((?:[\w.-]*(?:key|token|secret|password|auth)[\w.-]*)(?:=|%3D|:\s*))[^&\s\"']+")
# Percent-encode everything but printable ASCII, so no path can add a line or a quote to the log.
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"


def mask_secrets(text: str) -> str:
    """`text` with API keys and values of secret-looking parameters replaced by ***."""
    text = _NAMED_SECRET.sub(lambda match: match.group(1) + MASK, text)
    return _HEX_SECRET.sub(MASK, text)


def log_target(environ) -> str:
    """The request's path and query as the access log shows them: percent-encoded, secrets masked."""
    path = quote(environ.get("PATH_INFO", "").encode("latin-1", "replace"), safe=_SAFE_PATH)
    query = environ.get("QUERY_STRING", "")
    if query:
        path += "?" + quote(query.encode("latin-1", "replace"), safe=_SAFE_QUERY)
    return mask_secrets(f"{environ.get('SCRIPT_NAME', '')}{path}")


def request_id(environ) -> str:
    """The client's X-Request-ID if it is sane, otherwise a fresh one."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    if REQUEST_ID_PATTERN.fullmatch(given) and mask_secrets(given) == given:
        return given
    return uuid.uuid4().hex


class SafetyHeaders:
    """WSGI middleware: every response, errors included, gets X-Request-ID and nosniff."""

    def __init__(self, wsgi_app, config):
        self.wsgi_app = wsgi_app
        self.config = config

    def __call__(self, environ, start_response):
        rid = environ[REQUEST_ID_KEY] = request_id(environ)
        environ[TARGET_KEY] = log_target(environ)
        _buffer_chunked_body(environ, self.config.get("MAX_CONTENT_LENGTH"))

        def start(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            headers = [*headers]
            if "x-request-id" not in names:
                headers.append((REQUEST_ID_HEADER, rid))
            if "x-content-type-options" not in names:
                headers.append(("X-Content-Type-Options", "nosniff"))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


class MaskSecrets(logging.Filter):
    """A logging filter that masks API keys in every record it passes."""

    def filter(self, record):
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _buffer_chunked_body(environ, limit):
    # A chunked body has no Content-Length to check, and werkzeug silently stops reading it at the
    # limit: read one byte past the limit here, and hand the app a body of known length (or a 413).
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if limit is None or not chunked or environ.get("CONTENT_LENGTH"):
        return
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        environ[TOO_LARGE_KEY] = True
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _refuse_large_body():
    # Werkzeug checks MAX_CONTENT_LENGTH only when a view opens the body: opening it here answers 413
    # on every route (unknown ones, wrong methods, a missing key), before the body is read.
    if request.environ.get(TOO_LARGE_KEY):
        raise RequestEntityTooLarge()
    request.stream  # noqa: B018 - raises RequestEntityTooLarge when Content-Length is past the limit


def init_app(app):
    """Install the request id, nosniff, body limit and log masking on `app`."""
    app.wsgi_app = SafetyHeaders(app.wsgi_app, app.config)
    app.before_request(_refuse_large_body)
    app.logger.addFilter(MaskSecrets())
