"""Hostile or odd input gets a clear 4xx problem document: never a 500, a traceback or an internal path."""

import io
import json
import os
import re
import socket
from urllib.parse import urlsplit

import pytest

from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, REPO, LiveServer

API_PATH = f"/chatbots/{DOCUMENTED_CHATBOT}/conversations"
KEY = {"X-API-Key": API_KEY}
METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT", "PROPFIND"]
# route -> status of a GET with a valid key; every route but the unknown ones allows GET, HEAD and OPTIONS.
ROUTES = {API_PATH: 200, "/nowhere": 404, "/": 200, "/healthz": 200, "/openapi.json": 200, "/docs": 200,
          "/docs/": 200, "/docs/init.js": 200, "/docs/assets/no-such-file.css": 404}
UNKNOWN_ROUTES = ("/nowhere",)
LEAKS = [b"Traceback", b"/work/", str(REPO).encode(), b".py", b"File \""]


def assert_clean(status, content_type, body, method="GET"):
    """No server error, no leak; every error is a problem document that states its own status."""
    assert status < 500, body[:500]
    for leak in LEAKS:
        assert leak not in body, (leak, body[:500])
    if status >= 400 and method != "HEAD":
        assert content_type == "application/problem+json", (status, content_type, body[:200])
        problem = json.loads(body)
        assert problem["status"] == status and problem["detail"]


def check(response, method="GET"):
    assert_clean(response.status_code, response.mimetype, response.data, method)
    return response


# In-process: what Flask and the views make of odd values (werkzeug percent-decodes path and query).

@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("page=%FF%FE", 422, "page"),
        ("page=%00", 422, "page"),
        ("page=1%00", 422, "page"),
        ("state=%F0%9F%98%80", 422, "state"),
        ("page=" + "9" * 5000, 422, "page"),  # past Python's int() digit limit
        ("page=99999999999999999999999999999999", 422, "page"),
        ("page=2147483648", 422, "page"),
        ("page=2147483647", 200, None),
        ("page=-0", 422, "page"),
        ("page_size=-0", 422, "page_size"),
        ("page=0", 422, "page"),
        ("page=%EF%BC%91", 422, "page"),  # a full-width digit one, which int() accepts
        ("page=%D9%A1", 422, "page"),  # an Arabic-Indic digit one, which int() accepts
        ("page=1e3", 422, "page"),
        ("page=+1", 422, "page"),
        ("page=1.0", 422, "page"),
        ("page=", 422, "page"),
        ("page=1&page=2", 422, "page"),
        ("page=1&page=1", 422, "page"),
        ("state=closed&state=resolved", 422, "state"),
        ("%FF=1", 422, "%FF"),
        ("=1", 422, ""),
        ("state=" + "x" * 50_000, 422, "state"),
        ("x" * 50_000 + "=1", 422, "x" * 50_000),
    ],
)
def test_odd_query_values(get, query, status, field):
    response = check(get(f"{API_PATH}?{query}"))
    assert response.status_code == status
    if field is not None:
        assert field in response.json["errors"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/chatbots/%FF%FE/conversations", 422),
        ("/chatbots/%00/conversations", 422),
        (f"/chatbots/{DOCUMENTED_CHATBOT}%00/conversations", 422),
        ("/chatbots/%F0%9F%98%80/conversations", 422),
        ("/chatbots/-0/conversations", 422),
        ("/chatbots/" + "a" * 20_000 + "/conversations", 422),
        ("/chatbots/a/b/conversations", 422),
        ("/chatbots//conversations", 404),
        ("/%FF%00", 404),
        ("/" + "\U0001f600" * 1000, 404),
        (API_PATH + "/", 404),
        (API_PATH + "/%2e%2e/%2e%2e", 404),
    ],
)
def test_odd_paths(get, path, status):
    assert check(get(path)).status_code == status


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-API-Key": "\U0001f600" * 48}, 401),
        ({"X-API-Key": "a" * 100_000}, 401),
        ({"X-API-Key": "\x00" * 48}, 401),
        ({"X-API-Key": API_KEY + "\x00"}, 401),
        ({"X-API-Key": "\xff" * 48}, 401),
        ({"X-API-Key": f"{API_KEY}, {API_KEY}"}, 401),
        ({**KEY, "Prefer": "code=\x00"}, 422),
        ({**KEY, "Prefer": "delay=" + "9" * 5000}, 422),
        ({**KEY, "Prefer": "code=-0"}, 422),
        ({**KEY, "Prefer": "\U0001f600"}, 422),
        ({**KEY, "Accept": "\U0001f600/\x00"}, 200),
        ({**KEY, "Content-Type": "application/json; charset=\U0001f600"}, 200),
        ({**KEY, "X-Anything": "\U0001f600" * 10_000}, 200),
    ],
)
def test_odd_header_values(client, headers, status):
    assert check(client.get(API_PATH, headers=headers)).status_code == status


def test_repeated_api_key_header_is_refused(client):
    response = check(client.get(API_PATH, headers=[("X-API-Key", API_KEY), ("X-API-Key", API_KEY)]))
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"\xff\xfe\x00", "application/json", 400),
        (b'{"a": "\\ud800"}', "application/json", 200),
        (b"[" * 100_000, "application/json", 400),
        (b"1" * 5000, "application/json", 400),  # past int()'s digit limit
        (b"\x00" * 1000, "application/octet-stream", 200),
        ("\U0001f600".encode() * 100, "text/plain", 200),
    ],
    ids=["not-utf8-json", "lone-surrogate", "deep-nesting", "huge-number", "nul-bytes", "emoji"],
)
def test_odd_bodies(get, body, content_type, status):
    response = check(get(API_PATH, data=body, content_type=content_type))
    assert response.status_code == status


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", ROUTES)
def test_every_method_on_every_route(client, method, route):
    response = check(client.open(route, method=method, headers=KEY), method)
    if route in UNKNOWN_ROUTES:
        assert response.status_code == 404
    elif method in ("GET", "HEAD"):
        assert response.status_code == ROUTES[route]
    elif method == "OPTIONS":
        assert response.status_code == 204
        assert "GET" in response.headers["Allow"]
    else:
        assert response.status_code == 405
        assert "GET" in response.headers["Allow"]
    if method == "HEAD":
        assert response.data == b""
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_head_has_the_headers_of_get(get, client):
    got = get(API_PATH)
    head = client.head(API_PATH, headers=KEY)
    assert head.status_code == 200 and head.data == b""
    for name in ("Content-Type", "Content-Length", "X-Total-Count", "Link"):
        assert head.headers[name] == got.headers[name]


# The body limit (max_body / --max-body / MOCK_MAX_BODY): checked before any view reads the body.

@pytest.fixture
def limited_client(make_app):
    return make_app({"max_body": 100}).test_client()


def _chunked(client, path, body, headers=KEY):
    """A request whose body has no Content-Length, as a server hands over a chunked one."""
    return client.open(
        path, method="GET", headers=headers, input_stream=io.BytesIO(body),
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": ""},
    )


@pytest.mark.parametrize("route", [API_PATH, "/nowhere", "/openapi.json"])
@pytest.mark.parametrize("send", ["content-length", "chunked"])
@pytest.mark.parametrize(("size", "status"), [(100, None), (101, 413), (10 * 1024 * 1024, 413)])
def test_body_limit_on_every_route(limited_client, route, send, size, status):
    body = b"x" * size
    if send == "chunked":
        response = _chunked(limited_client, route, body)
    else:
        response = limited_client.get(route, headers=KEY, data=body)
    check(response)
    if status is None:
        assert response.status_code != 413
    else:
        assert response.status_code == 413
        assert response.json["detail"] == "The request body is larger than 100 bytes."


def test_default_limit_refuses_ten_megabytes_without_a_key(client):
    response = check(client.get(API_PATH, data=b"x" * (10 * 1024 * 1024)))
    assert response.status_code == 413
    assert response.json["detail"] == "The request body is larger than 1048576 bytes."


def test_chunked_body_within_limit_reaches_the_json_check(limited_client):
    response = _chunked(limited_client, API_PATH, b"{", {**KEY, "Content-Type": "application/json"})
    assert check(response).status_code == 400


# Through gunicorn, with raw bytes no HTTP library would send: gunicorn's own limits and parser.

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("hostile")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_") and k != "PORT"}
    live = LiveServer(["--workers", "1", "--max-body", "1000"], {**env, "LOG_DIR": str(log_dir)})
    yield live
    live.stop()


def exchange(url, data, timeout=10):
    """Send raw bytes; return (status, headers, body) of the answer, read by its Content-Length."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as connection:
        try:
            connection.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before taking the whole request; read what it said
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            assert chunk, f"connection closed without an answer: {received!r}"
            received += chunk
        head, body = received.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        while len(body) < int(headers.get("content-length", 0)):
            chunk = connection.recv(65536)
            if not chunk:
                break
            body += chunk
    return status, headers, body


def _request(target, headers=b"", body=b"", method=b"GET", version=b"HTTP/1.1"):
    key = b"X-API-Key: " + API_KEY.encode() + b"\r\n"
    return method + b" " + target + b" " + version + b"\r\nHost: 127.0.0.1\r\n" + key + headers + b"Connection: close\r\n\r\n" + body


P = API_PATH.encode()
RAW_CASES = {
    "request-line-too-long": (_request(b"/" + b"a" * 5000), 414, "4094 bytes"),
    "query-too-long": (_request(P + b"?page=" + b"1" * 5000), 414, "4094 bytes"),
    "header-too-long": (_request(P, b"X-Filler: " + b"a" * 9000 + b"\r\n"), 431, "8190 bytes"),
    "too-many-headers": (_request(P, b"".join(b"X-H%d: a\r\n" % i for i in range(120))), 431, "100 header"),
    "garbage-request-line": (b"GARBAGE\r\n\r\n", 400, "parsed as HTTP"),
    "bad-method": (_request(P, method=b"G@T"), 400, "parsed as HTTP"),
    "bad-version": (_request(P, version=b"HTTP/9.9"), 400, "parsed as HTTP"),
    "nul-in-header": (_request(P, b"X-Thing: a\x00b\r\n"), 400, "parsed as HTTP"),
    "bad-content-length": (_request(P, b"Content-Length: abc\r\n"), 400, "parsed as HTTP"),
    "two-content-lengths": (_request(P, b"Content-Length: 1\r\nContent-Length: 2\r\n", b"ab"), 400, "parsed as HTTP"),
    "non-utf8-path": (_request(b"/chatbots/\xff\xfe/conversations"), 422, "not valid"),
    "nul-in-path": (_request(b"/chatbots/\x00/conversations"), 422, "not valid"),
    "emoji-path": (_request("/chatbots/\U0001f600/conversations".encode()), 422, "not valid"),
    "non-utf8-query": (_request(P + b"?page=\xff"), 422, "not valid"),
    "emoji-query": (_request(P + "?state=\U0001f600".encode()), 422, "not valid"),
    "non-utf8-key": (_request(P, b"X-API-Key: " + b"\xff" * 48 + b"\r\n"), 401, "X-API-Key"),
    "emoji-key": (_request(P, "X-API-Key: \U0001f600\r\n".encode()), 401, "X-API-Key"),
    "long-key": (_request(P, b"X-API-Key: " + b"a" * 8000 + b"\r\n"), 401, "X-API-Key"),
    "body-past-limit": (_request(P, b"Content-Length: 10485760\r\n", b"x" * 4096), 413, "1000 bytes"),
    "chunked-past-limit": (_request(P, b"Transfer-Encoding: chunked\r\n", b"800\r\n" + b"x" * 2048 + b"\r\n"), 413, "1000 bytes"),
    "malformed-chunk": (_request(P, b"Transfer-Encoding: chunked\r\n", b"zz\r\n"), 400, "chunked request body"),
}


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_raw_requests_through_gunicorn(server, case):
    data, status, detail = RAW_CASES[case]
    got_status, headers, body = exchange(server.url, data)
    assert got_status == status, body
    assert_clean(got_status, headers.get("content-type"), body)
    assert detail in json.loads(body)["detail"]
    assert headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r"[\x21-\x7e]{1,128}", headers["x-request-id"])
    # gunicorn's own refusals too: a browser script reads them as it reads the app's answers.
    plain = exchange(server.url, _request(P))[1]
    assert headers["access-control-allow-origin"] == plain["access-control-allow-origin"] == "*"
    assert headers["access-control-expose-headers"] == plain["access-control-expose-headers"]


@pytest.mark.parametrize("target", [b"/" + b"a" * 4095, P + b"?page=" + b"1" * 5000], ids=["path", "query"])
def test_a_request_line_past_the_limit_is_414_uri_too_long(server, target):
    status, headers, body = exchange(server.url, _request(target))
    assert (status, headers["content-type"]) == (414, "application/problem+json")
    problem = json.loads(body)
    assert (problem["status"], problem["title"]) == (414, "URI Too Long")
    assert problem["detail"].startswith("The request line (method, path and query) is longer than 4094 bytes: ")


def test_server_log_has_no_traceback_after_hostile_requests(server):
    for data, _, _ in RAW_CASES.values():
        exchange(server.url, data)
    assert "Traceback" not in server.log()


@pytest.mark.parametrize(
    "framing",
    [b"Content-Length: 10000000\r\n", b"Transfer-Encoding: chunked\r\n"],
    ids=["content-length", "chunked"],
)
def test_a_body_past_the_limit_is_refused_and_the_connection_closed(server, framing):
    # A keep-alive client: the server must not wait for (or read) the rest of a body it refuses.
    body = b"x" * 100 if b"Length" in framing else b"7d0\r\n" + b"x" * 2000 + b"\r\n0\r\n\r\n"
    request = b"GET " + P + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + API_KEY.encode() + b"\r\n" + framing
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(request + b"\r\n" + body)
        received = b""
        while chunk := connection.recv(65536):  # to the server's close
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 413")
    assert "connection: close" in head  # not kept alive to drain a body nobody will read
