"""Shared fixtures: an app built by the factory, its test client, and a valid API key."""

import json
from pathlib import Path

import pytest

from app import create_app

DOCUMENTED_CHATBOT = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
GENERATED_CHATBOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
API_KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"
REPO = Path(__file__).resolve().parents[1]


def requests_behind(app, layer):
    """The paths of the requests that pass the app's `layer` ("replay" or "direct") to what stands behind it."""
    wrapper = app.extensions[layer]
    inner, calls = wrapper.wsgi_app, []

    def counted(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    wrapper.wsgi_app = counted
    return calls


def answer(app, path, headers=None, method="GET", key=API_KEY, **environ):
    """(status, headers but X-Request-ID, body) of one request, as a client sees them.

    `key` goes in X-API-Key unless None (or `headers` names another); `environ` overrides the WSGI environ.
    """
    headers = {**({"X-API-Key": key} if key else {}), **(headers or {})}
    response = app.test_client().open(path, method=method, headers=headers, environ_overrides=environ)
    kept = [(name, value) for name, value in response.headers if name.lower() != "x-request-id"]
    return response.status, kept, response.get_data()


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
def make_flask_app(make_app):
    """Build an app whose every request goes through Flask's view: no replay layer, no direct lane.

    The reference the fast layers (app/fastpath.py, app/direct.py) are compared with.
    """

    def _make(config=None):
        app = make_app(config)
        app.extensions["replay"].enabled = False
        app.extensions["direct"].enabled = False
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


class LiveServer:
    """A `conversations-mock serve` process on 127.0.0.1, port chosen by the OS."""

    def __init__(self, args, env):
        import re
        import subprocess
        import sys
        import time

        self.log_path = Path(env["LOG_DIR"]) / "server.log"
        self._log = open(self.log_path, "w+b")
        command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", "0", *args]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = self.log_path.read_bytes()
            match = re.search(rb"serving on (http://127\.0\.0\.1:\d+) .* with (\d+) workers", log)
            if match and len(re.findall(rb"worker \d+ ready", log)) >= int(match.group(2)):
                self.url = match.group(1).decode()
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log()}")

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout=30):
        """SIGTERM the server and wait for it to exit; return its exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except Exception:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


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
