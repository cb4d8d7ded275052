"""create_app: settings, then data, then the Flask app, then the WSGI layers a request passes through."""

from functools import partial

from flask import Flask

from conversations_mock.data.catalogue import Catalogue
from conversations_mock.data.clock import Clock
from conversations_mock.data.fixtures import BUILTIN_FIXTURES
from conversations_mock.data.generator import Timing
from conversations_mock.data.stored import StoredChatbots
from conversations_mock.settings import SETTINGS, ConfigError, load_settings
from conversations_mock.store import StoreConfigError, open_store
from conversations_mock.web import (
    control,
    conversations,
    cors,
    dashboard,
    docs,
    home,
    hosts,
    namespaces,
    openapi,
    problems,
    safety,
)
from conversations_mock.web.admission import ADMISSION, Admission
from conversations_mock.web.answers import ANSWERS, answers_for
from conversations_mock.web.fast import FastPages
from conversations_mock.web.forwarded import ForwardedOnly
from conversations_mock.web.journal import JOURNAL, Entries
from conversations_mock.web.limits import LIMITS, limits_for
from conversations_mock.web.namespaces import STORED, Namespaces
from conversations_mock.web.pages import stamp_clock
from conversations_mock.web.reload import FixtureReload, FixtureReloader
from conversations_mock.web.rules import RULES, FaultRules
from conversations_mock.web.responses import MockResponse
from conversations_mock.web.safety import SafetyHeaders

# app.extensions key of the layers create_app stacked, by name (tests and the pytest plugin reach them).
LAYERS = "layers"


def page_routes() -> list:
    """Every route answering pages of a list, as declared when an app is made: the fast path serves each.

    Read at create_app, not import, so that a test may declare a route with more checks (PageRoute.deciders).
    """
    return [conversations.ROUTE]


# The X-Forwarded-* headers trusted, one proxy's worth of each: a dev server's proxy (at /api, say) or
# nginx sets them, and the URLs the mock writes (Link, redirects, /docs) are then the ones the browser
# used. X-Forwarded-For is not trusted: the client's address decides only whether the control API
# answers without a token (loopback), and any client could claim 127.0.0.1 in a header.
FORWARDED = {"x_for": 0, "x_proto": 1, "x_host": 1, "x_port": 1, "x_prefix": 1}


def build_catalogue(settings, extra_dirs=(), clock=None):
    """Read the fixture directories the settings name (plus `extra_dirs`) into a new Catalogue.

    `clock` is the running app's (a rebuilt catalogue keeps its time); None makes the settings' clock.
    Raises FixtureError naming the file, item and field of each problem, one to a line.
    """
    directories = [BUILTIN_FIXTURES]
    if settings["fixtures_dir"]:
        directories.append(settings["fixtures_dir"])
    directories.extend(extra_dirs)
    if clock is None:
        clock = Clock.of(settings["clock"], settings["clock_speed"])
    # The configured count of conversations have arrived by the clock's start (under now, its day's).
    timing = Timing(clock.anchor_us, settings["idle_close"], settings["conversations_per_hour"])
    return Catalogue(directories, settings["seed"], settings["conversations"], clock=clock, timing=timing)


class MockFlask(Flask):
    """Flask, answering an OPTIONS request (a CORS preflight or a plain one) with 204 and its Allow header.

    Its responses leave Content-Type out of a 204 or 304 (web/responses.py).
    """

    response_class = MockResponse

    def make_default_options_response(self):
        """Flask's OPTIONS answer, as 204 No Content: it has no body (Prism answers preflights so too)."""
        response = super().make_default_options_response()
        response.status_code = 204
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
    # Every answer reads the catalogue from here, so a reload (or the pytest plugin) can swap it whole.
    catalogue = app.extensions["catalogue"] = build_catalogue(settings)
    admission = app.extensions[ADMISSION] = Admission(page_routes(), settings["base_path"])
    # Made here, in gunicorn's master before the fork, so that every worker shares it.
    try:
        store = app.extensions[control.STORE] = open_store(
            settings["store"], settings["journal_size"], settings["journal_namespaces"]
        )
    except StoreConfigError as error:
        raise ConfigError(f"Setting {SETTINGS['store'].label()}: {error}") from error
    app.extensions[STORED] = StoredChatbots(store)
    # What may answer an API request instead of its page, in order (web/answers.py): the rate limit's
    # deciders plug in at limits=, the namespace's fault rules at rules=.
    limits = app.extensions[LIMITS] = limits_for(settings, store)
    rules = app.extensions[RULES] = FaultRules(store, settings["seed"])
    answers = app.extensions[ANSWERS] = answers_for(settings, store, limits=(limits.decider,), rules=(rules.decider,))
    # Its digest key is made here too, so every worker's digests of masked values are checked alike; a
    # Redis store keeps one for every server on it (read here, then followed by each worker's listener).
    entries = app.extensions[JOURNAL] = Entries(store=store)
    problems.init_app(app)
    # Every answer Flask gives says the mock's instant (X-Mock-Clock), pages the one they were evaluated at.
    app.after_request(stamp_clock(lambda: app.extensions["catalogue"].clock))
    safety.init_app(app)
    namespaces.init_app(app)
    app.register_blueprint(control.blueprint)
    dashboard.init_app(app)
    app.register_blueprint(conversations.blueprint, url_prefix=settings["base_path"] or None)
    # The document and its Swagger UI stay at the root, whatever the base path: no key needed.
    app.register_blueprint(openapi.blueprint)
    app.register_blueprint(docs.blueprint)
    app.register_blueprint(home.blueprint)
    learnt_cors_headers = cors.init_app(app)

    # The request's path, outermost first: each layer hands what it does not answer to the next,
    # and Flask (routing, the view, flask-cors, the error handlers) stands behind the last.
    reload = settings["reload"]
    layers = [
        ("safety", SafetyHeaders, {"max_body": settings["max_body"]}),
        # Before ProxyFix: the Host a browser sent, which no page's script can set (X-Forwarded-Host it can).
        ("hosts", hosts.HostCheck, {"bound": settings["host"], "allowed": settings["allowed_hosts"]})
        if not hosts.answers_any_host(settings["host"], settings["allowed_hosts"]) else None,
        # Before the namespace's prefix joins SCRIPT_NAME, and before the fast path and the view, which
        # both read the request's URL from the environ this leaves: their Link headers agree.
        ("proxy", ForwardedOnly, FORWARDED),
        ("namespaces", Namespaces,
         {"store": store, "entries": entries, "logger": app.logger, "journal": settings["journal_size"] > 0}),
        # A reload rebuilds the catalogue with the app's clock: a running clock goes on, never back.
        ("reload", FixtureReload, {"reloader": FixtureReloader(app, partial(build_catalogue, clock=catalogue.clock))})
        if reload else None,
        # Asks `answers` what answers each request it admits, as the view does (web/answers.py).
        ("fast", FastPages,
         {"app": app, "admission": admission, "cors_headers": learnt_cors_headers, "answers": answers}),
    ]
    app.extensions[LAYERS] = {}
    for name, layer, options in reversed([entry for entry in layers if entry]):
        app.wsgi_app = app.extensions[LAYERS][name] = layer(app.wsgi_app, **options)
    return app
