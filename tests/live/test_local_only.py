"""Through gunicorn, raw HTTP as a rebinding page or a foreign page's simple request sends it: refused."""

import http.client
import json
from urllib.parse import urlsplit

from tests.helpers import API_KEY, GENERATED_CHATBOT, sample_conversations
from tests.helpers import GENERATED_CONTROL as CONTROL
from tests.helpers import GENERATED_LISTING as LISTING


def _raw(server, method, path, headers, body=None):
    """(status, headers, parsed body) of one request sent with exactly these headers (Host included)."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        payload = body.encode() if body is not None else None
        if payload is not None:
            connection.putheader("Content-Length", str(len(payload)))
        connection.endheaders(payload)
        response = connection.getresponse()
        data = response.read()
        return response.status, response.headers, json.loads(data) if data else None
    finally:
        connection.close()


def test_a_rebinding_pages_requests_are_refused_by_the_server(live_server):
    server = live_server("--workers", "1")
    port = urlsplit(server.url).port
    sent = json.dumps(sample_conversations(GENERATED_CHATBOT, 2))
    local = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json"}
    assert _raw(server, "PUT", CONTROL, local, sent)[0] == 204
    rebound = {"Host": f"evil.example.test:{port}", "X-Forwarded-Host": f"localhost:{port}",
               "X-API-Key": API_KEY}
    for method, path in [("GET", LISTING), ("GET", "/__mock/requests"), ("POST", "/__mock/reset"),
                         ("GET", "/healthz"), ("GET", "/openapi.json")]:
        status, headers, problem = _raw(server, method, path, rebound)
        assert status == 421 and headers["Content-Type"] == "application/problem+json", (method, path)
        assert f"'evil.example.test:{port}'" in problem["detail"] and "--allowed-hosts" in problem["detail"]
    status, _, kept = _raw(server, "GET", CONTROL, {"Host": f"localhost:{port}"})
    assert status == 200 and len(kept) == 2


def test_a_foreign_pages_simple_post_is_refused_and_a_test_runners_is_not(live_server):
    server = live_server("--workers", "1")
    host = {"Host": urlsplit(server.url).netloc}
    sent = json.dumps(sample_conversations(GENERATED_CHATBOT, 2))
    assert _raw(server, "PUT", CONTROL, {**host, "Content-Type": "application/json"}, sent)[0] == 204
    # What a form or fetch(..., {mode: "no-cors"}) on another site sends: no preflight first.
    status, headers, problem = _raw(server, "POST", "/__mock/reset", {
        **host, "Origin": "https://evil.example.test", "Content-Type": "text/plain"}, "")
    assert status == 403 and headers["Content-Type"] == "application/problem+json"
    assert "'https://evil.example.test'" in problem["detail"] and "--control-origins" in problem["detail"]
    assert "Access-Control-Allow-Origin" not in headers
    assert len(_raw(server, "GET", CONTROL, host)[2]) == 2
    assert _raw(server, "POST", "/__mock/reset", host)[0] == 204  # no Origin: a test runner
    assert _raw(server, "GET", CONTROL, host)[0] == 404
