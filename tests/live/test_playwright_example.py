"""The docs' Playwright (TypeScript) test, run as printed by Node's Playwright runner against a live mock.

docs/other-languages.md includes tests/live/playwright/conversations.spec.ts verbatim.

The page under test is a small app of the kind the example has in mind: given the namespace's
base URL, it lists the conversations the backend returns. Playwright comes from the npm registry
(@playwright/test, never its own browser download) and drives Debian's chromium.
"""

import os
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import API_KEY, CHROMIUM_ARGS, REPO, chromium_path, require

PLAYWRIGHT = "@playwright/test@1"
# The app under test: reads its backend's base URL from ?api=, lists the chatbot's conversations.
APP = """<!DOCTYPE html>
<html><body><ul id="conversations"></ul>
<script>
const api = new URLSearchParams(location.search).get("api");
fetch(`${api}/chatbots/0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11/conversations?page=1`, {headers: {"X-API-Key": "%s"}})
  .then((response) => response.json())
  .then((conversations) => {
    for (const conversation of conversations) {
      const item = document.createElement("li");
      item.textContent = conversation.id;
      document.getElementById("conversations").append(item);
    }
  });
</script></body></html>
""" % API_KEY
CONFIG = """import { defineConfig } from "@playwright/test";
export default defineConfig({
  testDir: "tests",
  timeout: 30000,
  use: { launchOptions: { executablePath: %s, args: %s } },
});
"""


def documented_example() -> str:
    """The Playwright test docs/other-languages.md includes."""
    return (REPO / "tests" / "live" / "playwright" / "conversations.spec.ts").read_text(encoding="utf-8")


@pytest.fixture
def app_server(tmp_path):
    """The app under test, served from a directory of its own on 127.0.0.1."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "index.html").write_text(APP, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_documented_playwright_example_passes(live_server, app_server, tmp_path):
    npm = require("npm")
    chromium = chromium_path() if os.path.exists(chromium_path()) else require("chromium")
    mock = live_server("--workers", "1")
    project = tmp_path / "client"
    (project / "tests").mkdir(parents=True)
    spec = documented_example().replace("http://127.0.0.1:8000", mock.url).replace("http://localhost:5173", app_server)
    (project / "tests" / "conversations.spec.ts").write_text(spec, encoding="utf-8")
    (project / "playwright.config.ts").write_text(
        CONFIG % (repr(chromium).replace("'", '"'), str(CHROMIUM_ARGS).replace("'", '"')), encoding="utf-8")
    (project / "package.json").write_text('{"private": true}\n', encoding="utf-8")
    env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "CI": "1"}
    installed = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", PLAYWRIGHT], cwd=project,
                               env=env, capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    run = subprocess.run([os.path.join("node_modules", ".bin", "playwright"), "test", "--reporter=line"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
