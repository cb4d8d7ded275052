"""create_app: settings, data, error handlers, middleware and blueprints, assembled into one app."""

from conversations_mock.data.catalogue import Catalogue
from conversations_mock.data.fixtures import BUILTIN_FIXTURES
from conversations_mock.settings import load_settings
from conversations_mock.web import conversations as api
from conversations_mock.web import cors, docs, openapi, reload
from conversations_mock.web import fast as direct
from conversations_mock.web import problems as errors
from conversations_mock.web import replay as fastpath
from conversations_mock.web import safety as middleware
from flask import Flask


def build_catalogue(settings, extra_dirs=()):
    """Read the fixture directories the settings name (plus `extra_dirs`) into a new Catalogue.

    Raises FixtureError naming the file, item and field of each problem, one to a line.
    """
    directories = [BUILTIN_FIXTURES]
    if settings["fixtures_dir"]:
        directories.append(settings["fixtures_dir"])
    directories.extend(extra_dirs)
    return Catalogue(directories, settings["seed"], settings["conversations"])


class MockFlask(Flask):
    """Flask, answering an OPTIONS request (a CORS preflight or a plain one) with 204 and its Allow header."""

    def make_default_options_response(self):
        """Flask's OPTIONS answer, as 204 No Content: it has no body (Prism answers preflights so too)."""
        response = super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]  # Flask's default text/html would describe no content
        return response


def create_app(config=None, environ=None):
    """Build the app from the environment's settings and `config` (which wins).

    `environ` replaces os.environ (the pytest plugin passes {} so a machine's MOCK_* never leak in).
    Raises ConfigError or FixtureError, naming the setting or file, when one cannot be used.
    """
    settings = load_settings(config, environ)
    app = MockFlask(__name__)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings["max_body"]
    app.json.sort_keys = False
    # Views read the catalogue from here on every request, so a reload can swap it whole.
    app.extensions["catalogue"] = build_catalogue(settings)
    errors.init_app(app)
    # Ordinary GETs answered without Flask, behind the replay of exact repeats; both sit inside the
    # safety middleware, so their answers get its headers too.
    direct.init_app(app)
    fastpath.init_app(app)
    if settings["reload"]:
        reload.init_app(app, build_catalogue)  # in front of both: every answer sees edited fixtures
    middleware.init_app(app)
    app.register_blueprint(api.blueprint, url_prefix=settings["base_path"] or None)
    # The document and its Swagger UI stay at the root, whatever the base path: no key needed.
    app.register_blueprint(openapi.blueprint)
    app.register_blueprint(docs.blueprint)
    cors.init_app(app)
    return app
