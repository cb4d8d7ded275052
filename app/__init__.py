"""The conversations mock: a Flask application built by create_app."""

from flask import Flask

from app import api, errors
from app.config import ConfigError, load_settings
from app.data.catalogue import Catalogue
from app.data.fixtures import BUILTIN_FIXTURES, FixtureError

__all__ = ["ConfigError", "FixtureError", "create_app"]


def create_app(config=None):
    """Build the app from the environment's settings and `config` (which wins).

    Raises ConfigError or FixtureError, naming the setting or file, when one cannot be used.
    """
    settings = load_settings(config)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings["max_body"]
    app.json.sort_keys = False
    directories = [BUILTIN_FIXTURES] + ([settings["fixtures_dir"]] if settings["fixtures_dir"] else [])
    app.extensions["catalogue"] = Catalogue(directories, settings["seed"], settings["conversations"])
    errors.init_app(app)
    app.register_blueprint(api.blueprint, url_prefix=settings["base_path"] or None)
    return app
