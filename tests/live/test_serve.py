"""The real gunicorn server serves the documented example."""

import json
import urllib.request

from tests.helpers import API_KEY, DOCUMENTED_CHATBOT


def test_gunicorn_serves_documented_chatbot(live_server, documented_example):
    server = live_server("--workers", "2")
    request = urllib.request.Request(
        f"{server.url}/chatbots/{DOCUMENTED_CHATBOT}/conversations", headers={"X-API-Key": API_KEY}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == documented_example
    assert server.stop() == 0
