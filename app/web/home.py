"""GET / (where to start: docs, document, API route, control API) and GET /healthz; no key needed."""

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from markupsafe import escape

import conversations_mock
from conversations_mock.data.fixtures import DOCUMENTED_CHATBOT
from conversations_mock.data.generator import timestamp_text
from conversations_mock.schemas import API_KEY_HEADER, CONVERSATIONS_PATH
from conversations_mock.schemas.control import CONTROL_PREFIX, NAMESPACE_HEADER, NAMESPACE_PREFIX
from conversations_mock.web.pages import clock_header

blueprint = Blueprint("home", __name__)
# Container and load-balancer probes ask here every few seconds.
HEALTH_PATH = "/healthz"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>conversations-mock {version}</title>
</head>
<body>
  <h1>conversations-mock {version}</h1>
  <p>A mock of the Get Conversations API.</p>
  <ul>
    <li><a href="{docs}">{docs}</a>: Swagger UI, to try the API</li>
    <li><a href="{openapi}">{openapi}</a>: its OpenAPI document</li>
    <li><code>GET {api}</code>, with the key in the <code>{header}</code> header,
      e.g. <code>{example}</code></li>
    <li><a href="{health}">{health}</a>: health check</li>
    <li><code>{control}</code>: the control API, for tests and demos: set what a chatbot answers, read
      the requests received, reset (<a href="{control_docs}">its operations</a>, in the same document).
      Without an admin token it answers this machine only; with one, send
      <code>Authorization: Bearer TOKEN</code>.</li>
    <li>Namespaces keep tests apart: send <code>{namespace_header}: NAME</code>, or put
      <code>{namespace_prefix}NAME</code> before any path; each has its own chatbots and journal.</li>
  </ul>
</body>
</html>
"""


def _links():
    # Under the prefix a proxy (X-Forwarded-Prefix) or a namespace put before the path, as url_for's are.
    base = request.script_root + current_app.config["SETTINGS"]["base_path"]
    api = base + CONVERSATIONS_PATH.replace("<chatbot_id>", "{chatbot_id}")
    return {
        "docs": url_for("docs.page"),
        "openapi": url_for("openapi.openapi_json"),
        "api": api,
        "example": api.replace("{chatbot_id}", DOCUMENTED_CHATBOT),
        "health": url_for("home.healthz"),
        "control": request.script_root + CONTROL_PREFIX,
        # Swagger UI's deep link to the control API's tag (web/openapi_control.py).
        "control_docs": url_for("docs.page") + "#/control",
    }


@blueprint.get("/")
def index():
    """Where to go from here: JSON links, or a small HTML page when the client prefers HTML (a browser)."""
    links = _links()
    version = conversations_mock.__version__
    # JSON first: a client that accepts anything (curl, */*) gets JSON; a browser asks for HTML.
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        fields = {**links, "version": version, "header": API_KEY_HEADER, "namespace_header": NAMESPACE_HEADER,
                  "namespace_prefix": NAMESPACE_PREFIX}
        response = Response(PAGE.format(**{k: escape(v) for k, v in fields.items()}), mimetype="text/html")
    else:
        response = jsonify(name="conversations-mock", version=version, api_key_header=API_KEY_HEADER,
                           namespace_header=NAMESPACE_HEADER, **links)
    response.vary.add("Accept")
    return response


@blueprint.get(HEALTH_PATH)
def healthz():
    """The server is up and answering, and its clock: the instant, how it was set (fixed, now or an
    instant) and its speed (clock seconds per wall-clock second, 0 frozen); nothing else is read or
    computed."""
    clock = current_app.extensions["catalogue"].clock
    at = clock.now_us()
    response = jsonify(status="ok", version=conversations_mock.__version__,
                       clock={"instant": timestamp_text(at), "mode": clock.mode, "speed": clock.speed})
    response.headers.set(*clock_header(at))  # the same instant as the body's
    response.cache_control.no_store = True
    return response
