"""Shared fixtures: an app built by the factory, its test client, and a valid API key."""

import json
from pathlib import Path

import pytest

from app import create_app

DOCUMENTED_CHATBOT = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
GENERATED_CHATBOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
API_KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Settings come only from each test's config, never from the machine's environment."""
    for variable in ("HOST", "PORT", "MOCK_WORKERS", "MOCK_SEED", "MOCK_FIXTURES_DIR", "MOCK_API_KEYS",
                     "MOCK_BASE_PATH", "MOCK_CONVERSATIONS", "MOCK_CORS_ORIGINS", "MOCK_RELOAD",
                     "MOCK_LATENCY", "MOCK_ERROR_RATE", "MOCK_MAX_BODY"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def make_app():
    """Build an app from a config mapping, as create_app does for a user."""
    return lambda config=None: create_app(config)


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
