"""The real gunicorn server serves the documented example, and its banner says how to ask for it."""

import json
import shlex
import urllib.request
from importlib.metadata import version

import pytest

from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, GENERATED_LISTING


def test_gunicorn_serves_documented_chatbot(live_server, documented_example):
    server = live_server("--workers", "2")
    request = urllib.request.Request(
        f"{server.url}/chatbots/{DOCUMENTED_CHATBOT}/conversations", headers={"X-API-Key": API_KEY}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == documented_example
    assert server.stop() == 0


OTHER_KEY = "0123456789abcdef" * 3


@pytest.mark.parametrize(
    "args, key",
    [
        ([], API_KEY),
        (["--api-keys", f"{OTHER_KEY},{'f' * 48}"], OTHER_KEY),
        (["--api-keys", OTHER_KEY, "--base-path", "/v1"], OTHER_KEY),
    ],
)
def test_banner_names_the_version_and_a_curl_that_works(live_server, args, key):
    server = live_server("--workers", "1", *args)
    log = server.log()
    assert f"conversations-mock {version('conversations-mock')}: serving on {server.url} " in log
    [curl] = [line.split("try  ", 1)[1] for line in log.splitlines() if "try  curl " in line]
    program, flag, header, url = shlex.split(curl)
    assert (program, flag, header) == ("curl", "-H", f"X-API-Key: {key}")
    name, value = header.split(": ")
    with urllib.request.urlopen(urllib.request.Request(url, headers={name: value}), timeout=10) as response:
        assert response.status == 200
        assert [c["chatbot_id"] for c in json.loads(response.read())] == [DOCUMENTED_CHATBOT] * 10


def test_a_keep_alive_connection_is_closed_after_its_hundredth_request_and_the_client_goes_on(live_server):
    """Connections are recycled (web/worker.py, KEEPALIVE_REQUESTS), so the workers share a client's load."""
    import http.client
    from urllib.parse import urlsplit

    from conversations_mock.web.worker import KEEPALIVE_REQUESTS

    server = live_server("--workers", "2")
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    closing = []
    for number in range(1, KEEPALIVE_REQUESTS + 3):  # past the limit: http.client reconnects by itself
        connection.request("GET", GENERATED_LISTING, headers={"X-API-Key": API_KEY})
        response = connection.getresponse()
        assert response.status == 200 and len(json.loads(response.read())) == 10
        if response.getheader("Connection") == "close":
            closing.append(number)
    connection.close()
    assert closing == [KEEPALIVE_REQUESTS]
