"""GET /docs: Swagger UI for /openapi.json, every asset served from the installed package (no CDN)."""

from flask import Blueprint, Response, send_from_directory, url_for
from markupsafe import escape
from swagger_ui_bundle import swagger_ui_path

import conversations_mock
from conversations_mock.data.fixtures import DOCUMENTED_KEY
from conversations_mock.web.openapi import SECURITY_SCHEME

blueprint = Blueprint("docs", __name__)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Get Conversations API - conversations-mock {version}</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" type="image/png" href="{icon}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec}"
       data-security-scheme="{scheme}" data-api-key="{key}"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""

# A separate file rather than an inline script, so a Content-Security-Policy without
# 'unsafe-inline' still lets the page run. validatorUrl null: no badge fetched from outside.
INIT_JS = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    displayRequestDuration: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    onComplete: function () {
      window.ui.preauthorizeApiKey(root.dataset.securityScheme, root.dataset.apiKey);
    }
  });
});
"""


@blueprint.get("/docs")
@blueprint.get("/docs/")
def page():
    """The Swagger UI page."""
    links = {
        "css": url_for("docs.asset", filename="swagger-ui.css"),
        "icon": url_for("docs.asset", filename="favicon-32x32.png"),
        "bundle": url_for("docs.asset", filename="swagger-ui-bundle.js"),
        "init": url_for("docs.init_script"),
        "spec": url_for("openapi.openapi_json"),
    }
    # The key is the document's security scheme, authorized up front so "try it out" starts from a
    # request that works; Authorize (log out, type another) sends any other key, a wrong one too.
    fields = {**links, "scheme": SECURITY_SCHEME, "key": DOCUMENTED_KEY,
              "version": conversations_mock.__version__}
    return Response(PAGE.format(**{k: escape(v) for k, v in fields.items()}), mimetype="text/html")


@blueprint.get("/docs/init.js")
def init_script():
    """Start Swagger UI on the page's element, pointed at the document's URL."""
    return Response(INIT_JS, mimetype="text/javascript")


@blueprint.get("/docs/assets/<path:filename>")
def asset(filename):
    """A file of the swagger-ui-bundle package; send_from_directory refuses paths outside it."""
    return send_from_directory(swagger_ui_path, filename)
