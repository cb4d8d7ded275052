"""The dashboard at /__mock/ui: a page, its script and style, and the journal as server-sent events.

With an admin token, a browser is asked for a login (Basic): any user name, the token as password.

Everything it shows comes from the control API (the page's script calls it), except two reads the
control API has no route for: the live journal (`GET /__mock/ui/stream`) and a generated chatbot's
conversations to put (`GET /__mock/ui/generated`). Every route here passes the control API's guard
(loopback, or the admin token) and its CORS and Host rules, since it lives under /__mock.

The stream holds no worker: gunicorn's workers are gevent's, and a stream is one greenlet that reads
the namespace's journal once every POLL_S seconds and sends what is new; it ends after STREAM_S and
the browser's EventSource opens the next (retry), so a forgotten tab costs one read a second at most.
"""

import time
from importlib.resources import files

import orjson
from flask import Blueprint, Response, current_app, request
from marshmallow import RAISE

from conversations_mock.data.generator import GeneratedHistory
from conversations_mock.schemas import ChatbotPathSchema
from conversations_mock.schemas.control import CONTROL_PREFIX, GeneratedQuerySchema, StreamQuerySchema
from conversations_mock.web import control
from conversations_mock.web.conversations import parser
from conversations_mock.web.journal import journal_of, shown_entry
from conversations_mock.web.namespaces import namespace_of
from conversations_mock.web.problems import Problem

blueprint = Blueprint("dashboard", __name__, url_prefix=CONTROL_PREFIX + "/ui")
# A browser prompts for a login on a Basic challenge only (and then sends it with every request to
# /__mock/...): the user name is anything, the password the admin token.
BASIC_CHALLENGE = 'Basic realm="conversations-mock control", charset="UTF-8"'


@blueprint.before_request
def _check_access():
    try:
        control.check_access()
    except Problem as refusal:
        if refusal.status == 401:
            refusal.headers = {**refusal.headers, "WWW-Authenticate": BASIC_CHALLENGE}
            refusal.detail += " In a browser, log in with any user name and the admin token as the password."
        raise
# The page's files, shipped as package data (pyproject's package-data).
ASSETS = files("conversations_mock.web") / "static"
# The browser asks for an icon too: named here, it never reaches the API (and the journal) as /favicon.ico.
FILES = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8",
         "favicon.svg": "image/svg+xml"}
# Scripts and styles from files of this origin only (none inline, no other site's): a journalled value
# that reached the page as markup could run nothing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The stream reads the journal this often (seconds), and ends after STREAM_S (the browser reconnects).
POLL_S = 1.0
STREAM_S = 300.0
# The browser waits this long (ms) before it reconnects a stream that ended or broke.
RETRY_MS = 1000
# Entries read per poll: more new ones than this in one second are shown from the newest.
BATCH = 200

_generated_query = GeneratedQuerySchema()
_stream_query = StreamQuerySchema()


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.get("")
def page():
    """The dashboard's page (its script fills it)."""
    return _secured(Response((ASSETS / "dashboard.html").read_bytes(), mimetype="text/html"))


@blueprint.get("/<path:filename>")
def asset(filename):
    """The page's script, style or icon (FILES); 404 for any other name."""
    content_type = FILES.get(filename)
    if content_type is None:
        raise Problem(404, f"The dashboard has no file {filename!r}; its page is {CONTROL_PREFIX}/ui.")
    return _secured(Response((ASSETS / filename).read_bytes(), content_type=content_type))


@blueprint.get("/chatbots")
def chatbots():
    """The chatbots the request's namespace has set, each with how many conversations (SetChatbotSchema)."""
    stored = _store().chatbots(namespace_of(request.environ))
    listed = [{"id": chatbot, "conversations": len(orjson.loads(data))}
              for chatbot, data in sorted(stored.items())]
    return Response(orjson.dumps(listed), mimetype="application/json")


@blueprint.get("/generated/<path:chatbot_id>")
def generated(chatbot_id):
    """`count` generated conversations of a chatbot at the mock's instant, for the control API's PUT."""
    chatbot_id = parser.parse(ChatbotPathSchema(), request, location="view_args")["chatbot_id"]
    query = parser.parse(_generated_query, request, location="query", unknown=RAISE)
    catalogue = current_app.extensions["catalogue"]
    seed = current_app.config["SETTINGS"]["seed"] if query["seed"] is None else query["seed"]
    at = catalogue.clock.now_us()
    history = GeneratedHistory(chatbot_id, seed, query["count"], catalogue.pools, timing=catalogue.timing)
    return Response(orjson.dumps(history.page(None, 0, query["count"], at)), mimetype="application/json")


@blueprint.get("/stream")
def stream():
    """The journal as server-sent events: a `snapshot` (newest first), then `entries` as they come."""
    query = parser.parse(_stream_query, request, location="query", unknown=RAISE)
    namespace = query.get("namespace") or namespace_of(request.environ)
    events = journal_events(_store(), namespace, POLL_S, time.monotonic() + STREAM_S)
    response = Response(events, mimetype="text/event-stream")
    # Not cached, and not held back by a proxy (nginx buffers answers unless told so).
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def frame(event: str, data: bytes) -> bytes:
    """One server-sent event: its name and its data, one `data:` line per line of it."""
    lines = b"".join(b"data: " + line + b"\n" for line in data.split(b"\n"))
    return b"event: " + event.encode("ascii") + b"\n" + lines + b"\n"


def journal_events(store, namespace: str, poll_s: float, until: float, sleep=None):
    """A namespace's journal as frames: retry, a snapshot, then one a poll: its new entries, or a comment.

    A journal cleared or reset meanwhile sends a new snapshot. Ends at monotonic time `until`.
    `sleep` (default time.sleep, looked up when the stream starts: gunicorn's gevent worker patches it
    after the app is made, and the patched one yields to the other requests) waits between polls.
    """
    sleep = sleep or time.sleep
    yield f"retry: {RETRY_MS}\n\n".encode("ascii")
    kept = journal_of(store, namespace, None, BATCH)
    yield frame("snapshot", orjson.dumps([shown_entry(entry) for entry in kept]))
    newest = _key(kept[0]) if kept else None
    while time.monotonic() < until:
        sleep(poll_s)
        head = journal_of(store, namespace, None, 1)  # the newest alone tells whether anything came
        if (_key(head[0]) if head else None) == newest:
            yield b": idle\n\n"  # one write a poll: a client that has gone is found here
            continue
        kept = journal_of(store, namespace, None, BATCH)
        keys = [_key(entry) for entry in kept]
        if kept and (newest is None or newest in keys):
            new = kept[: keys.index(newest)] if newest is not None else kept
            yield frame("entries", orjson.dumps([shown_entry(entry) for entry in new]))
        else:  # cleared (or more new ones than one read holds): start over
            yield frame("snapshot", orjson.dumps([shown_entry(entry) for entry in kept]))
        newest = keys[0] if keys else None


def _key(entry: dict) -> tuple:
    """What tells a journal entry from another: when, which worker, which request id."""
    return entry["time"], entry["worker"], entry["request_id"]


def _store():
    return current_app.extensions[control.STORE]


def init_app(app):
    """Register the dashboard's routes."""
    app.register_blueprint(blueprint)
