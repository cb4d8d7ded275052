"""The gunicorn settings, seen through a live server: the access log's byte count is what was sent."""

import re
import time
import urllib.request

import pytest

from tests.helpers import API_KEY, DOCUMENTED_CHATBOT

TARGETS = {
    "swagger-bundle": "/docs/assets/swagger-ui-bundle.js",
    "swagger-css": "/docs/assets/swagger-ui.css",
    "docs-page": "/docs",
    "openapi": "/openapi.json",
    "conversations": f"/chatbots/{DOCUMENTED_CHATBOT}/conversations",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import os

    from tests.helpers import LiveServer

    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_") and k != "PORT"}
    live = LiveServer(["--workers", "1"], {**env, "LOG_DIR": str(tmp_path_factory.mktemp("conf"))})
    yield live
    live.stop()


def _logged_bytes(server, request_id, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(rf'" 200 (\S+) \d+ms request_id={re.escape(request_id)} ', server.log())
        if found:
            return found.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no access log line for {request_id}: {server.log()[-2000:]}")


@pytest.mark.parametrize("target", list(TARGETS.values()), ids=list(TARGETS))
def test_access_log_shows_the_bytes_sent(server, target):
    request_id = f"bytes{target.replace('/', '-')}"
    request = urllib.request.Request(server.url + target, headers={"X-API-Key": API_KEY, "X-Request-ID": request_id})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    assert len(body) > 0
    assert _logged_bytes(server, request_id) == str(len(body))
