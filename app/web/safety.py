"""Safe defaults on every response: a request id, nosniff, a bounded body and secret-free logs."""

import io
import logging
import re
from random import getrandbits
from urllib.parse import quote

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from conversations_mock.web.problems import Problem

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is echoed only if it is short printable ASCII: it ends up in a header and a log line.
REQUEST_ID_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")
# WSGI environ keys the access log reads (gunicorn_conf's access_log_format: %({mock.target}e)s).
TARGET_KEY = "mock.target"
REQUEST_ID_KEY = "mock.request_id"
TOO_LARGE_KEY = "mock.body_too_large"
BAD_BODY_KEY = "mock.bad_body"
MASK = "***"

# A key of the documented shape (48 hex digits) anywhere, and the value of any parameter named like a
# secret: a client that puts its key in a query string or a path must not find it in the server's log.
_HEX_SECRET = re.compile(r"[0-9A-Fa-f]{48,}")
# A name that says what its value is: a key, a token, a secret, a session, a password or auth(entication,
# orisation). The name may go on (session_id, Session-Id, access_token_v2, oauth_verifier) to its = or :.
# Bounded quantifiers only: a log line is masked in time linear in its length, however hostile.
_NAMED_SECRET = re.compile(
    r"(?i)(key|(?:token|secret|session|passw(?:or)?d|auth)[\w-]{0,20})"
    r"(\s{0,5}(?:=|%3D|:)\s{0,5}(?:(?:bearer|basic)\s{1,5})?)[^&\s\"',;]+"
)
# A value shaped like a credential whatever its name: 'Bearer <token>' (its space percent-encoded in a
# query too) and a JWT (base64url JSON header
# '{"...', which always starts eyJ, then payload and signature).
_SHAPED_SECRET = re.compile(
    r"\b((?i:bearer)(?:\s|%20|\+){1,5})[^&\s\"',;]+"
    r"|\beyJ[A-Za-z0-9_-]{1,8192}\.[A-Za-z0-9_-]{1,8192}\.[A-Za-z0-9_-]{0,8192}"
)
# Percent-encode everything but printable ASCII, so no path can add a line or a quote to the log.
SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = SAFE_PATH + "?"
_PRINTABLE = "".join(map(chr, range(0x21, 0x7F)))


# mask_secrets tests for the words the regexes need before running them. In ASCII text (every log
# target: it is percent-encoded) the regexes' case-insensitive match is plain ASCII case, so a
# substring test on lower() is exact; other text always goes through the regexes.
_KEY_LENGTH = 48  # the shortest text _HEX_SECRET can match


def mask_secrets(text: str) -> str:
    """`text` with API keys, values of secret-named parameters, bearer tokens and JWTs replaced by ***."""
    if not text.isascii():
        text = _SHAPED_SECRET.sub(_masked_shape, _NAMED_SECRET.sub(_masked, text))
    else:
        # The words the regexes need ("eyj": a JWT's start), spelt out: a loop costs twice as much.
        lowered = text.lower()
        if ("key" in lowered or "token" in lowered or "secret" in lowered or "session" in lowered
                or "passw" in lowered or "auth" in lowered or "bearer" in lowered or "eyj" in lowered):
            text = _SHAPED_SECRET.sub(_masked_shape, _NAMED_SECRET.sub(_masked, text))
    # Shorter text cannot hold a key of the documented shape: most header values and targets are.
    return _HEX_SECRET.sub(MASK, text) if len(text) >= _KEY_LENGTH else text


def _masked(match) -> str:
    return match.group(1) + match.group(2) + MASK


def _masked_shape(match) -> str:
    return (match.group(1) or "") + MASK


def has_body(environ) -> bool:
    """Whether the request carries a body (chunked bodies have a Content-Length once buffered here)."""
    return environ.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in environ


def log_target(environ) -> str:
    """The request's path and query as the access log shows them: percent-encoded, secrets masked."""
    path = quote(environ.get("PATH_INFO", "").encode("latin-1", "replace"), safe=SAFE_PATH)
    query = environ.get("QUERY_STRING", "")
    if query:
        path += "?" + quote(query.encode("latin-1", "replace"), safe=_SAFE_QUERY)
    return mask_secrets(f"{environ.get('SCRIPT_NAME', '')}{path}")


def request_id(environ) -> str:
    """The client's X-Request-ID if it is sane, otherwise a fresh one."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    if REQUEST_ID_PATTERN.fullmatch(given) and mask_secrets(given) == given:
        return given
    # A version-4 UUID's 32 hex digits, its version and variant bits set as uuid.UUID(version=4) sets
    # them. From the random module, not os.urandom: an id names a request in logs and guards nothing,
    # and a system call per request cost ~3 us. The module reseeds itself in each forked worker.
    return f"{getrandbits(128) & _UUID4_CLEARED | _UUID4_SET:032x}"


_UUID4_CLEARED = ~(0xF << 76 | 0x3 << 62)  # the version nibble and the variant's two bits
_UUID4_SET = 0x4 << 76 | 0x2 << 62  # version 4, variant 10 (RFC 4122)


class SafetyHeaders:
    """WSGI layer: every response, errors included, gets X-Request-ID and nosniff; bodies are bounded.

    It stands outermost, so every answer (the fast path's, Flask's, an error's) passes through it.

    :param wsgi_app: what answers the request
    :param max_body: the largest request body accepted, in bytes (a chunked one is read up to it)
    """

    def __init__(self, wsgi_app, max_body: int | None):
        self.wsgi_app = wsgi_app
        self.max_body = max_body

    def __call__(self, environ, start_response):
        rid = environ[REQUEST_ID_KEY] = request_id(environ)
        environ[TARGET_KEY] = log_target(environ)
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            # Werkzeug decodes raw query bytes as strict UTF-8 (a 500 on b"\xff"), but percent-encoded
            # ones leniently: encode them, so the view names the bad parameter instead.
            environ["QUERY_STRING"] = quote(query.encode("latin-1", "replace"), safe=_PRINTABLE)
        _buffer_chunked_body(environ, self.max_body)

        def start(status, headers, exc_info=None):
            # Nothing inside sets these two (tests/web/test_safety.py finds exactly one of each on every route).
            headers = [*headers, (REQUEST_ID_HEADER, rid), ("X-Content-Type-Options", "nosniff")]
            if status.startswith("413") or environ.get(BAD_BODY_KEY):
                _close_connection(start_response)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


class MaskSecrets(logging.Filter):
    """A logging filter that masks secrets in every record it passes, as mask_secrets does the journal's."""

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
    try:
        body = environ["wsgi.input"].read(limit + 1)
    except (OSError, ValueError) as error:
        # gunicorn raises IOError subclasses for a malformed chunk; the client gets a 400, not a reset.
        environ[BAD_BODY_KEY] = f"The chunked request body is malformed: {error}."
        body = b""
    if len(body) > limit:
        environ[TOO_LARGE_KEY] = True
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _close_connection(start_response):
    # Under gunicorn, start_response is a method of its Response: force_close() answers
    # "Connection: close" instead of draining a body nobody will read (too large, or malformed).
    force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
    if force_close is not None:
        force_close()


def _refuse_bad_body():
    # Werkzeug checks MAX_CONTENT_LENGTH only when a view opens the body: opening it here answers 413
    # on every route (unknown ones, wrong methods, a missing key), before the body is read.
    if request.environ.get(TOO_LARGE_KEY):
        raise RequestEntityTooLarge()
    if request.environ.get(BAD_BODY_KEY):
        raise Problem(400, request.environ[BAD_BODY_KEY])
    if has_body(request.environ):
        request.stream  # noqa: B018 - raises RequestEntityTooLarge when Content-Length is past the limit


def init_app(app):
    """Refuse bodies past the limit on every route, and mask keys in the app's log (SafetyHeaders is a layer)."""
    app.before_request(_refuse_bad_body)
    app.logger.addFilter(MaskSecrets())
