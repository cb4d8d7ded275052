"""Shared fixtures: an app built by the factory, its test client, and a valid API key."""

import json
from pathlib import Path

import pytest

from conversations_mock import create_app
from tests.helpers import API_KEY, REPO, LiveServer


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Settings come only from each test's config, never from the machine's environment."""
    for variable in ("HOST", "PORT", "MOCK_WORKERS", "MOCK_SEED", "MOCK_FIXTURES_DIR", "MOCK_API_KEYS",
                     "MOCK_BASE_PATH", "MOCK_CONVERSATIONS", "MOCK_CORS_ORIGINS", "MOCK_RELOAD",
                     "MOCK_LATENCY", "MOCK_ERROR_RATE", "MOCK_MAX_BODY", "MOCK_CLOCK", "MOCK_CLOCK_SPEED"):
        monkeypatch.delenv(variable, raising=False)


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
        for variable in ("HOST", "PORT", "MOCK_API_KEYS", "MOCK_BASE_PATH", "MOCK_SEED"):
            if variable not in env_overrides:
                env.pop(variable, None)
        server = LiveServer(list(args), env)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()
