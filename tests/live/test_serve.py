"""The real gunicorn server serves the documented example, and its banner says how to ask for it."""

import json
import shlex
import urllib.request
from importlib.metadata import version

import pytest

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
