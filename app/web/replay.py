"""Replay of exact repeats: a page answered 200 once is answered again without Flask's machinery.

CI jobs and load tests ask for the same pages over and over. Flask, webargs, flask-cors and the
view cost several times what the answer's bytes do, so the first ordinary 200 of a request is
kept (status, headers, body) under everything it depends on, and an exact repeat is answered
from WSGI directly. Anything else (another key, a Prefer header, a body, an error, chaos settings,
a reloaded or swapped catalogue) takes the full path, so validation and scenarios live in one place.
The layer sits inside the safety middleware, which adds X-Request-ID and nosniff to replays too.
"""

from conversations_mock.data.catalogue import BoundedCache
from conversations_mock.web.safety import has_body
from conversations_mock.web.scenarios import chaos

# Set by the view on an ordinary answer (no scenario): only such answers may be replayed.
REPLAYABLE_KEY = "mock.replayable"
# Bytes of replayed answers each worker keeps: body and header text, plus ENTRY_OVERHEAD for the
# key (eleven strings) and the Python objects holding it all.
REPLAY_CACHE_BYTES = 4 * 1024 * 1024
ENTRY_OVERHEAD = 1500
# Everything in the environ an ordinary answer depends on: method, where (host and scheme make
# the Link header), what (path and query), who (the key), the CORS origin and the body's type.
KEY_ENVIRON = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "HTTP_X_API_KEY",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "wsgi.url_scheme",
    "HTTP_ORIGIN",
    "CONTENT_TYPE",
)
_METHODS = ("GET", "HEAD")


def plain(environ) -> bool:
    """Whether the request asks for a page and nothing more: no Prefer header, no body, no upgrade.

    Only such a request may be replayed or answered by the direct lane (app/direct.py); werkzeug's
    router refuses a websocket upgrade to the page's route with a 400.
    """
    return not ("HTTP_PREFER" in environ or "HTTP_UPGRADE" in environ or has_body(environ))


def _weight(entry):
    status, headers, body = entry
    return len(body) + sum(len(name) + len(value) for name, value in headers) + ENTRY_OVERHEAD


class ReplayCache:
    """WSGI layer between the safety middleware and Flask that replays answers to exact repeats."""

    def __init__(self, app, wsgi_app, limit=REPLAY_CACHE_BYTES):
        self.app = app
        self.wsgi_app = wsgi_app
        self.answers = BoundedCache(limit, _weight)
        self._catalogue = app.extensions["catalogue"]
        # Server-wide latency and errors are drawn per request: nothing may be replayed then.
        self.enabled = not chaos(app.config["SETTINGS"])

    def key(self, environ):
        """The environ's replay key, or None when the request may not be replayed."""
        if not self.enabled or environ.get("REQUEST_METHOD") not in _METHODS or not plain(environ):
            return None
        return tuple(environ.get(name) for name in KEY_ENVIRON)

    def __call__(self, environ, start_response):
        key = self.key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        catalogue = self.app.extensions["catalogue"]
        if catalogue is not self._catalogue:
            # Reloaded fixtures (or a test's swapped data): every kept answer may be stale.
            self.answers.clear()
            self._catalogue = catalogue
        answer = self.answers.recall(key)
        if answer is not None:
            status, headers, body = answer
            start_response(status, list(headers))
            return [body]
        return self._answer_and_keep(key, catalogue, environ, start_response)

    def _answer_and_keep(self, key, catalogue, environ, start_response):
        started = []

        def start(status, headers, exc_info=None):
            started[:] = [status, tuple(headers)]
            return start_response(status, headers, exc_info)

        chunks = self.wsgi_app(environ, start)
        if not (
            started
            and started[0].startswith("200 ")
            and environ.get(REPLAYABLE_KEY)
            and self.app.extensions["catalogue"] is catalogue
        ):
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        self.answers.remember(key, (started[0], started[1], body))
        return [body]


def init_app(app):
    """Put the replay layer in front of Flask's own WSGI app (call before the safety middleware)."""
    app.wsgi_app = ReplayCache(app, app.wsgi_app)
    app.extensions["replay"] = app.wsgi_app
