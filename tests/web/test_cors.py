"""CORS: the API open to the origins allowed (errors and preflights too), the control API to local pages only."""

import json

import pytest

from conversations_mock import ConfigError
from tests.helpers import (
    API_KEY,
    DOCUMENTED_CHATBOT,
    GENERATED_CHATBOT,
    GENERATED_CONTROL,
    answer,
    sample_conversations,
)

ORIGIN = "http://localhost:5173"
LISTING = f"/chatbots/{DOCUMENTED_CHATBOT}/conversations"
EXPOSED = {"x-total-count", "link", "x-request-id", "preference-applied", "retry-after", "www-authenticate",
           "ratelimit-policy", "ratelimit", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
           "x-mock-clock"}
KEY = {"X-API-Key": API_KEY}


def _header_set(value):
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def _broken_catalogue(app):
    # The view reads the catalogue on every request: without one it fails like any unexpected bug.
    app.extensions["catalogue"] = None


# (expected status, method, path, headers, extra client arguments, app setup)
RESPONSES = [
    (200, "get", LISTING, KEY, {}, None),
    (200, "head", LISTING, KEY, {}, None),
    (200, "get", "/openapi.json", {}, {}, None),
    (200, "get", "/docs", {}, {}, None),
    (400, "get", LISTING, KEY, {"data": "{", "content_type": "application/json"}, None),
    (401, "get", LISTING, {}, {}, None),
    (404, "get", "/nope", KEY, {}, None),
    (405, "delete", LISTING, KEY, {}, None),
    (413, "get", LISTING, KEY, {"data": "[" + "1," * 20 + "1]", "content_type": "application/json"}, None),
    (422, "get", LISTING + "?page=0", KEY, {}, None),
    (429, "get", LISTING, {**KEY, "Prefer": "code=429"}, {}, None),
    (500, "get", LISTING, KEY, {}, _broken_catalogue),
    (503, "get", LISTING, {**KEY, "Prefer": "code=503"}, {}, None),
]


@pytest.mark.parametrize(
    "status, method, path, headers, extra, setup", RESPONSES, ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in RESPONSES]
)
def test_every_answer_allows_any_origin_by_default(make_app, status, method, path, headers, extra, setup):
    app = make_app({"max_body": 16})
    if setup:
        setup(app)
    response = getattr(app.test_client(), method)(path, headers={"Origin": ORIGIN, **headers}, **extra)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert _header_set(response.headers.get("Access-Control-Expose-Headers")) == EXPOSED
    # Keys travel in a header, never in cookies: credentials are never allowed.
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(
    "path, headers",
    [(LISTING, {}), ("/__mock/requests", {"Authorization": "Bearer wrong"})],
    ids=["api", "control"],
)
def test_scripts_can_read_a_401s_challenge(make_app, path, headers):
    # WWW-Authenticate tells a browser script what to send: the API's key header, the control API's token.
    client = make_app({"admin_token": "t" * 32}).test_client()
    response = client.get(path, headers={"Origin": ORIGIN, **headers})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"]
    assert "www-authenticate" in _header_set(response.headers["Access-Control-Expose-Headers"])


def test_scripts_can_read_what_the_headers_expose(get):
    response = get(LISTING + "?page_size=3", headers={"Origin": ORIGIN, "Prefer": "example=documented"})
    exposed = _header_set(response.headers["Access-Control-Expose-Headers"])
    for header in ("X-Total-Count", "Link", "Preference-Applied"):
        assert header in response.headers and header.lower() in exposed


@pytest.mark.parametrize("path, status", [(LISTING, 204), ("/openapi.json", 204), ("/nope", 404)])
def test_preflight_allows_the_api_headers(client, path, status):
    requested = "x-api-key, prefer, content-type, x-request-id"
    response = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": requested,
        },
    )
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert _header_set(response.headers["Access-Control-Allow-Headers"]) == _header_set(requested)
    assert "get" in _header_set(response.headers["Access-Control-Allow-Methods"])
    assert response.headers["Access-Control-Max-Age"] == "600"  # the README's 600 s


@pytest.mark.parametrize("path", [LISTING, "/openapi.json", "/docs"])
def test_a_plain_options_request_is_answered_with_no_content(client, path):
    response = client.options(path)
    assert response.status_code == 204
    assert response.data == b"" and "Content-Type" not in response.headers
    assert {"GET", "HEAD", "OPTIONS"} <= {method.strip() for method in response.headers["Allow"].split(",")}


def test_preflight_refuses_headers_the_api_does_not_take(client):
    response = client.options(
        LISTING,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key, x-something-else",
        },
    )
    assert _header_set(response.headers.get("Access-Control-Allow-Headers")) == {"x-api-key"}


@pytest.mark.parametrize(
    "origin, allowed",
    [
        (ORIGIN, True),
        ("http://127.0.0.1:3000", True),
        ("http://localhost:8080", False),
        ("https://localhost:5173", False),
    ],
)
def test_configured_origins_only(make_app, origin, allowed):
    client = make_app({"cors_origins": f"{ORIGIN}, http://127.0.0.1:3000"}).test_client()
    for response in (
        client.get(LISTING, headers={"Origin": origin, **KEY}),
        client.get(LISTING, headers={"Origin": origin}),  # a 401 too
        client.options(
            LISTING,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "x-api-key",
            },
        ),
    ):
        if allowed:
            # The request's own origin, and Vary so a cache never hands it to another origin.
            assert response.headers["Access-Control-Allow-Origin"] == origin
            assert "origin" in _header_set(response.headers.get("Vary"))
        else:
            assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "value, message",
    [
        ("localhost:5173", "'localhost:5173' is not an origin"),
        ("http://localhost:5173/", "'http://localhost:5173/' is not an origin"),
        ("http://localhost:5173/app", "no path or trailing slash"),
        (",", "Give '*' or at least one origin."),
    ],
)
def test_bad_origins_stop_startup_with_a_message(make_app, value, message):
    with pytest.raises(ConfigError) as raised:
        make_app({"cors_origins": value})
    assert "cors_origins (--cors-origins / MOCK_CORS_ORIGINS)" in str(raised.value)
    assert message in str(raised.value)


def test_origins_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("MOCK_CORS_ORIGINS", ORIGIN)
    response = make_app().test_client().get(LISTING, headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def _flask_cors_itself(app):
    """The app with flask-cors' own after_request function instead of its memoised answers."""
    functions = app.after_request_funcs[None]
    functions[:] = [getattr(function, "__wrapped__", function) for function in functions]
    app.extensions["layers"]["fast"].enabled = False
    return app


@pytest.mark.parametrize("cors_origins", ["*", "https://app.example.test,https://other.example.test"])
def test_memoised_cors_headers_are_flask_cors_own(make_app, cors_origins):
    plain = _flask_cors_itself(make_app({"cors_origins": cors_origins}))
    memoised = make_app({"cors_origins": cors_origins})
    requests = [
        (method, path, {**key, **origin})
        for method, path in [("GET", f"/chatbots/{GENERATED_CHATBOT}/conversations"), ("HEAD", LISTING),
                             ("GET", "/chatbots/nope/conversations"), ("GET", "/nowhere"), ("POST", f"/chatbots/{GENERATED_CHATBOT}/conversations")]
        for key in (KEY, {})
        for origin in ({}, {"Origin": "https://app.example.test"}, {"Origin": "https://evil.example.test"})
    ]
    requests.append(("OPTIONS", f"/chatbots/{GENERATED_CHATBOT}/conversations",
                     {"Origin": "https://app.example.test", "Access-Control-Request-Method": "GET"}))
    for method, path, headers in requests * 2:
        assert answer(memoised, path, headers, method, key=None) == answer(plain, path, headers, method, key=None), (
            method, path, headers)


def _cors_only(headers):
    return {name: value for name, value in headers.items() if name.startswith("Access-Control-")}


def _gunicorns_refusal(app):
    """The head of the answer gunicorn's worker writes for a request it could not parse, as a header dict."""
    from types import SimpleNamespace

    from gunicorn import util

    from conversations_mock.web.cors import unparsed_headers
    from conversations_mock.web.worker import problem_writer

    sent = []
    config = SimpleNamespace(limit_request_line=4094, limit_request_fields=100, limit_request_field_size=8190)
    writer = problem_writer(config, unparsed_headers(app))
    original, util.write_nonblock = util.write_nonblock, lambda sock, data: sent.append(data)
    try:
        writer(None, 431, "Request Header Fields Too Large", "limit request headers fields")
    finally:
        util.write_nonblock = original
    lines = sent[0].split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]
    return dict(line.split(": ", 1) for line in lines)


@pytest.mark.parametrize("cors_origins", ["*", ORIGIN])
def test_gunicorns_own_refusals_carry_what_the_app_gives_any_origin(make_app, cors_origins):
    app = make_app({"cors_origins": cors_origins})
    refusal = _cors_only(_gunicorns_refusal(app))
    if cors_origins == "*":
        # The app's answer is the same for every origin: gunicorn's refusal carries it, word for word.
        answered = app.test_client().get("/nope", headers={"Origin": ORIGIN})
        assert refusal == _cors_only(answered.headers)
        assert refusal["Access-Control-Allow-Origin"] == "*"
        assert _header_set(refusal["Access-Control-Expose-Headers"]) == EXPOSED
    else:
        # The request's Origin was never read: no origin can be named (nor a list of them sent).
        assert refusal == {}


@pytest.mark.parametrize("cors_origins", ["*", ORIGIN, f"{ORIGIN},http://127.0.0.1:3000"])
def test_an_answer_varies_on_origin_exactly_when_origins_are_listed(make_app, cors_origins):
    # Listed origins: the answer depends on the Origin (allowed or not), so a cache must keep one per
    # Origin, a refused origin's answer too, or it would hand that one (no Allow-Origin) to an allowed
    # origin. Any origin: one answer for all, which caches may share. The control API's answers always
    # depend on the Origin (loopback pages and control_origins only).
    client = make_app({"cors_origins": cors_origins}).test_client()
    for origin in (ORIGIN, "http://evil.example.test", None):
        origin_header = {"Origin": origin} if origin else {}
        for method, path, headers in [
            ("GET", LISTING, KEY), ("GET", LISTING, KEY),  # the second: the fast path's
            ("GET", LISTING + "?page=2", {**KEY, "Prefer": "seed=3"}), ("GET", LISTING, {}),
            ("GET", "/nope", {}), ("GET", "/", {}), ("DELETE", "/__mock/requests", {}),
            ("OPTIONS", LISTING, {"Access-Control-Request-Method": "GET"}),
        ]:
            response = client.open(path, method=method, headers={**origin_header, **headers})
            varies = [item.strip() for item in ",".join(response.headers.getlist("Vary")).lower().split(",")]
            expected = cors_origins != "*" or path.startswith("/__mock")
            assert varies.count("origin") == expected, (origin, method, path, varies)


PUBLIC_ORIGIN = "https://app.example.test"
PRIVATE_NETWORK_PREFLIGHT = {
    "Origin": PUBLIC_ORIGIN,
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "x-api-key",
    "Access-Control-Request-Private-Network": "true",
}


@pytest.mark.parametrize("path", [LISTING, f"/__mock/ns/alice{LISTING}", "/openapi.json"])
@pytest.mark.parametrize("cors_origins", ["*", PUBLIC_ORIGIN])
def test_a_public_page_may_call_the_api_on_this_machine(make_app, path, cors_origins):
    # Chrome's Private Network Access: a public site's page asks before it reaches a loopback address.
    client = make_app({"cors_origins": cors_origins}).test_client()
    preflight = client.options(path, headers=PRIVATE_NETWORK_PREFLIGHT)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Private-Network"] == "true"
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", PUBLIC_ORIGIN)
    assert "x-api-key" in _header_set(preflight.headers["Access-Control-Allow-Headers"])
    for _ in range(2):  # through Flask, then the fast path's learnt headers
        response = client.get(path, headers={"Origin": PUBLIC_ORIGIN, **KEY,
                                             "Access-Control-Request-Private-Network": "true"})
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] in ("*", PUBLIC_ORIGIN)


def test_the_api_under_a_namespace_prefix_is_open_like_the_api(client):
    for _ in range(2):
        response = client.get(f"/__mock/ns/alice{LISTING}", headers={"Origin": PUBLIC_ORIGIN, **KEY})
        assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
        assert _header_set(response.headers["Access-Control-Expose-Headers"]) == EXPOSED


# --- The control API: loopback pages and control_origins only -----------------------------------------

FOREIGN = "https://evil.example.test"
LOOPBACK_PAGES = ["http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:8080", "http://localhost"]


def _control_answers(client, origin):
    """GET /__mock/requests and a PUT preflight on a chatbot's control path, from a page of `origin`."""
    read = client.get("/__mock/requests", headers={"Origin": origin})
    preflight = client.options(GENERATED_CONTROL, headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"})
    return read, preflight


@pytest.mark.parametrize("cors_origins", ["*", FOREIGN])
@pytest.mark.parametrize("prefix", ["", "/__mock/ns/alice"])
def test_a_foreign_page_can_neither_read_nor_preflight_the_control_api(make_app, cors_origins, prefix):
    # Even an origin the API allows: the control API is not the API.
    client = make_app({"cors_origins": cors_origins}).test_client()
    for _ in range(2):  # the second from the learnt headers
        read = client.get(prefix + "/__mock/requests", headers={"Origin": FOREIGN})
        assert read.status_code == 200 and "origin" in _header_set(read.headers.get("Vary"))
        preflight = client.options(prefix + GENERATED_CONTROL, headers={
            "Origin": FOREIGN, "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Private-Network": "true"})
        for response in (read, preflight):
            assert not _cors_only(response.headers), response.headers


@pytest.mark.parametrize("origin", LOOPBACK_PAGES)
def test_a_loopback_page_may_read_and_drive_the_control_api(client, origin):
    for response in _control_answers(client, origin):
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert "origin" in _header_set(response.headers.get("Vary"))
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]


def test_control_origins_allows_more_pages(make_app):
    client = make_app({"control_origins": f"{PUBLIC_ORIGIN},https://other.example.test"}).test_client()
    for response in _control_answers(client, PUBLIC_ORIGIN):
        assert response.headers["Access-Control-Allow-Origin"] == PUBLIC_ORIGIN
    assert client.post("/__mock/reset", headers={"Origin": PUBLIC_ORIGIN}).status_code == 204
    assert not _cors_only(_control_answers(client, FOREIGN)[0].headers)


# A write a page sends as a "simple" request (no preflight), or after one.
WRITES = [("POST", "/__mock/reset"), ("DELETE", "/__mock/requests"), ("DELETE", GENERATED_CONTROL),
          ("PUT", GENERATED_CONTROL), ("POST", "/__mock/ns/alice/__mock/reset"), ("POST", "/__mock/nowhere")]


@pytest.mark.parametrize("method, path", WRITES)
@pytest.mark.parametrize("origin", [FOREIGN, "null", "http://localhost.evil.example.test", "https://localhost:5173"])
def test_a_write_from_a_foreign_page_is_refused_and_changes_nothing(make_app, method, path, origin):
    client = make_app({"cors_origins": "*"}).test_client()
    conversations = sample_conversations(GENERATED_CHATBOT, 2)
    for namespace in ("default", "alice"):
        assert client.put(GENERATED_CONTROL, json=conversations, headers={"X-Mock-Namespace": namespace}).status_code == 204
    refused = client.open(path, method=method, headers={"Origin": origin, "Content-Type": "text/plain"},
                          data=json.dumps(conversations[:1]))
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    detail = refused.json["detail"]
    assert repr(origin) in detail and "control_origins (--control-origins / MOCK_CONTROL_ORIGINS)" in detail
    assert not _cors_only(refused.headers)
    for namespace in ("default", "alice"):
        kept = client.get(GENERATED_CONTROL, headers={"X-Mock-Namespace": namespace})
        assert [c["id"] for c in kept.json] == [c["id"] for c in reversed(conversations)]


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://localhost"}, {"Origin": "http://127.0.0.1:5173"}],
                         ids=["no-origin", "own-origin", "loopback-page"])
@pytest.mark.parametrize("method, path", WRITES[:5])
def test_writes_from_test_runners_own_and_loopback_pages_go_through(client, headers, method, path):
    conversations = json.dumps(sample_conversations(GENERATED_CHATBOT, 2))
    response = client.open(path, method=method, headers={**headers, "Content-Type": "application/json"},
                           data=conversations if method == "PUT" else None)
    assert response.status_code == 204


def test_the_own_origin_is_the_one_the_browser_used_behind_a_proxy(client):
    # A page the mock serves through a proxy (a future dashboard): its origin is the proxy's.
    proxied = {"X-Forwarded-Host": "mock.example.test", "X-Forwarded-Proto": "https"}
    response = client.post("/__mock/reset", headers={"Origin": "https://mock.example.test", **proxied})
    assert response.status_code == 204
    assert client.post("/__mock/reset", headers={"Origin": "https://mock.example.test"}).status_code == 403


@pytest.mark.parametrize("value, message", [("*", "'*' is not an origin"), ("localhost:1", "is not an origin")])
def test_bad_control_origins_stop_startup_with_a_message(make_app, value, message):
    with pytest.raises(ConfigError) as raised:
        make_app({"control_origins": value})
    assert "control_origins (--control-origins / MOCK_CONTROL_ORIGINS)" in str(raised.value)
    assert message in str(raised.value)
