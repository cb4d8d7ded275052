"""Shared fixtures: an app built by the factory, its test client, and a valid API key."""

import json
from pathlib import Path

import pytest

from conversations_mock import create_app
from conversations_mock.settings import SETTINGS
from tests import system
from tests.helpers import API_KEY, REPO, LiveServer

# pytester: tests/test_system.py runs small suites through the hooks below.
pytest_plugins = ["pytester"]

# Fixtures that start real servers (gunicorn, redis-server, nginx): a test using one is marked `live`.
LIVE_FIXTURES = {"live_server", "redis_server", "redis_url", "cluster"}


def pytest_collection_modifyitems(items):
    """Mark `live` every test that starts servers, browsers or builds, so `-m "not live"` is the fast loop."""
    for item in items:
        params = getattr(item, "callspec", None)
        if (item.path.parent.name == "live" or LIVE_FIXTURES & set(item.fixturenames)
                or (params is not None and params.params.get("store_factory") == "redis")):
            item.add_marker(pytest.mark.live)


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: printed after the short summary, before the counts
def pytest_terminal_summary(terminalreporter):
    """One line naming every program whose tests skipped for want of it, and the command that installs them."""
    yield
    lacking = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        program = reason.removeprefix("Skipped: ").split(" is not installed", 1)[0]
        if " is not installed" in reason and program in system.PROGRAMS:
            lacking[program] = lacking.get(program, 0) + 1
    if lacking:
        counts = ", ".join(f"{program} ({count})" for program, count in lacking.items())
        terminalreporter.write_line(
            f"SKIPPED {sum(lacking.values())} tests for want of {counts}: as root, `make test` installs them, "
            f"or: {system.install_command(lacking)}", yellow=True, bold=True)


def pytest_configure(config):
    """Stop before any test, saying why, when the package's fixtures folder holds a file it does not ship.

    Every server loads that folder: a stray file there (a `generate --out fixtures/...` made by hand)
    would fail dozens of tests with no hint of the cause.
    """
    from conversations_mock.data.fixtures import BUILTIN_FIXTURES
    from tests.helpers import SHIPPED_FIXTURES, unexpected_fixture_files

    stray = unexpected_fixture_files(BUILTIN_FIXTURES)
    if stray:
        raise pytest.UsageError(
            f"{BUILTIN_FIXTURES}, the package's own fixtures, holds {', '.join(stray)}, which it does not ship "
            f"({', '.join(SHIPPED_FIXTURES)}); the tests expect only those. Move it to a folder of your own "
            "(serve it with --fixtures DIR), or, if it is meant to ship, add it to SHIPPED_FIXTURES in "
            "tests/helpers.py."
        )


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Settings come only from each test's config, never from the machine's environment."""
    for setting in SETTINGS.values():
        monkeypatch.delenv(setting.variable, raising=False)


@pytest.fixture
def make_app():
    """Build an app from a config mapping, as create_app does for a user."""
    return lambda config=None: create_app(config)


@pytest.fixture
def make_flask_app(make_app):
    """Build an app whose every request goes through Flask's view, with its fast path off.

    The reference the fast path (web/fast.py) is compared with.
    """

    def _make(config=None):
        app = make_app(config)
        fast = app.extensions["layers"].get("fast")
        if fast is not None:
            fast.enabled = False
        return app

    return _make


@pytest.fixture(params=["fast", "flask"])
def any_app(request, make_app, make_flask_app):
    """The app with its fast path on, and with every request going through Flask."""
    return (make_app if request.param == "fast" else make_flask_app)()


@pytest.fixture
def any_client(any_app):
    return any_app.test_client()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api_key():
    return API_KEY


@pytest.fixture
def get(client):
    """GET a path with a valid API key (headers given override it)."""

    def _get(path, headers=None, **kwargs):
        return client.get(path, headers={"X-API-Key": API_KEY, **(headers or {})}, **kwargs)

    return _get


@pytest.fixture
def documented_example():
    """The ten conversations the API document prints, parsed from its text."""
    text = (REPO / "docs" / "get-conversations.txt").read_text(encoding="utf-8")
    return json.loads(text[text.index("[\n{"):])


@pytest.fixture
def builtin_fixtures():
    """The package's own fixtures folder; what a test changes there is put back (and fails the test)."""
    from conversations_mock.data.fixtures import BUILTIN_FIXTURES

    before = {path: path.read_bytes() for path in BUILTIN_FIXTURES.iterdir() if path.is_file()}
    yield BUILTIN_FIXTURES
    after = {path: path.read_bytes() for path in BUILTIN_FIXTURES.iterdir() if path.is_file()}
    for path in after.keys() - before.keys():
        path.unlink()
    for path, content in before.items():
        if after.get(path) != content:
            path.write_bytes(content)
    assert after == before, "the package's fixtures were changed"


@pytest.fixture
def write_fixture(tmp_path):
    """Write a fixture file into a fresh directory and return that directory."""

    def _write(name, content):
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        return tmp_path

    return _write


@pytest.fixture
def live_server(tmp_path):
    """Start real gunicorn servers with extra `serve` flags; each is stopped after the test."""
    import os

    servers = []

    def _start(*args, **env_overrides):
        env = {**os.environ, "LOG_DIR": str(tmp_path / f"server{len(servers)}"), **env_overrides}
        Path(env["LOG_DIR"]).mkdir()
        for setting in SETTINGS.values():  # the machine's settings never reach a test's server
            if setting.variable not in env_overrides:
                env.pop(setting.variable, None)
        server = LiveServer(list(args), env)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Debian's redis-server on 127.0.0.1, a free port, no persistence; shared by the session's tests.

    A test that needs it fails, naming redis-server, when it is not installed (never skips).
    """
    from tests.helpers import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis, emptied for this test."""
    redis_server.resume()  # a test that paused it and failed must not stall the next
    redis_server.client.flushall()
    return redis_server.url


@pytest.fixture
def cluster(redis_server, redis_url, live_server, tmp_path):
    """Three servers started as the container starts them, sharing the session's Redis, behind nginx.

    Each runs the Dockerfile's command (loopback for 0.0.0.0, a free port for PORT's) with MOCK_STORE
    set as compose.yaml sets it; nginx runs deploy/nginx.conf with the three as its upstream.
    """
    from types import SimpleNamespace

    from tests.helpers import Nginx, container_command

    argv = container_command()[2:]  # after `conversations-mock serve`
    args = [{"0.0.0.0": "127.0.0.1"}.get(arg, arg) for arg in argv]  # live_server gives --port 0
    servers = [live_server(*args, MOCK_STORE=redis_url, MOCK_WORKERS="2") for _ in range(3)]
    (tmp_path / "nginx").mkdir()
    nginx = Nginx(tmp_path / "nginx", [int(server.url.rsplit(":", 1)[1]) for server in servers])
    yield SimpleNamespace(servers=servers, nginx=nginx, redis=redis_server, store_url=redis_url)
    nginx.stop()
