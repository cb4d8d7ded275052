"""Safe defaults: X-Request-ID, nosniff, no versions, one masked access-log line per request."""

import http.client
import re
import time
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.web.safety import log_target, mask_secrets
from tests.helpers import API_KEY, DOCUMENTED_CHATBOT

API_PATH = f"/chatbots/{DOCUMENTED_CHATBOT}/conversations"

# (method, path, headers, body, status): one request for each kind of answer the app gives.
ANSWERS = [
    ("GET", API_PATH, {"X-API-Key": API_KEY}, None, 200),
    ("GET", API_PATH, {}, None, 401),
    ("GET", "/nowhere", {}, None, 404),
    ("DELETE", API_PATH, {"X-API-Key": API_KEY}, None, 405),
    ("GET", API_PATH + "?page=0", {"X-API-Key": API_KEY}, None, 422),
    ("GET", API_PATH, {"X-API-Key": API_KEY, "Content-Type": "application/json"}, b"{", 400),
    ("GET", API_PATH, {"X-API-Key": API_KEY}, b"x" * 2048, 413),
]
ANSWER_IDS = [str(answer[-1]) for answer in ANSWERS]


@pytest.fixture
def small_body_client(make_app):
    return make_app({"max_body": 1024}).test_client()


def _send(client, method, path, headers, body, request_id=None):
    headers = dict(headers)
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return client.open(path, method=method, headers=headers, data=body)


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), ANSWERS, ids=ANSWER_IDS)
def test_every_answer_carries_a_request_id_and_nosniff(small_body_client, method, path, headers, body, status):
    response = _send(small_body_client, method, path, headers, body, request_id="client-42")
    assert response.status_code == status
    assert response.headers["X-Request-ID"] == "client-42"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.getlist("X-Request-ID") == ["client-42"]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), ANSWERS, ids=ANSWER_IDS)
def test_a_request_id_is_generated_when_none_is_sent(small_body_client, method, path, headers, body, status):
    first = _send(small_body_client, method, path, headers, body)
    second = _send(small_body_client, method, path, headers, body)
    assert first.status_code == status
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "request_id",
    ["a", "x" * 128, "2f1c-ab:7/trace=1;span_id@host!", "0af7651916cd43dd8448eb211c80319c"],
)
def test_a_sane_request_id_is_echoed(get, request_id):
    assert get(API_PATH, headers={"X-Request-ID": request_id}).headers["X-Request-ID"] == request_id


@pytest.mark.parametrize(
    "request_id",
    ["x" * 129, "has space", "caf\u00e9", "tab\tinside", "\u2603", API_KEY],
    ids=["too-long", "space", "latin-1", "tab", "non-latin", "looks-like-a-key"],
)
def test_an_odd_request_id_is_replaced(client, request_id):
    # The test client sends non-latin-1 text as UTF-8 bytes, as a careless client would.
    response = client.get(API_PATH, headers={"X-Request-ID": request_id, "X-API-Key": API_KEY})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"/x?page=1&{'k'}={API_KEY}", "/x?page=1&k=***"),
        ("/x?api_key=short&page=2", "/x?api_key=***&page=2"),
        ("/x?X-API-Key=abc", "/x?X-API-Key=***"),
        ("/x?token=abc&secret=def&password=ghi", "/x?token=***&secret=***&password=***"),
        ("/x?auth=abc&page=2", "/x?auth=***&page=2"),
        ("/x?authorization=Bearer%20abc", "/x?authorization=***"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
        (f"header X-API-Key: {API_KEY}", "header X-API-Key: ***"),
        (f"/chatbots/{API_KEY}/conversations", "/chatbots/***/conversations"),
        (f"/chatbots/{DOCUMENTED_CHATBOT}/conversations?page=2", f"/chatbots/{DOCUMENTED_CHATBOT}/conversations?page=2"),
        # By meaning: a name that says session, or goes on after token, secret, password or auth...
        ("/x?session=abc&sessionid=def&JSESSIONID=ghi", "/x?session=***&sessionid=***&JSESSIONID=***"),
        ("/x?access_token_v2=abc&client_secret_1=def&oauth_verifier=ghi&page=2",
         "/x?access_token_v2=***&client_secret_1=***&oauth_verifier=***&page=2"),
        ("X-Session-Id: abc", "X-Session-Id: ***"),
        # ... and a value shaped like a bearer token or a JWT, whatever its name.
        ("/x?next=Bearer%20abc&page=2", "/x?next=Bearer%20***&page=2"),
        ("referer https://app.test/?q=bearer  abc.def-ghi", "referer https://app.test/?q=bearer  ***"),
        ("/x?id_=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl&page=2", "/x?id_=***&page=2"),
        ("/chatbots/eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0./conversations", "/chatbots/***/conversations"),
        # Not secrets: words that merely contain one, a JWT's start without its parts.
        ("/x?state=closed&keyboard=us&page_size=10", "/x?state=closed&keyboard=us&page_size=10"),
        ("/x?name=eyJane", "/x?name=eyJane"),
    ],
)
def test_secrets_are_masked(text, masked):
    assert mask_secrets(text) == masked


@pytest.mark.parametrize(
    ("path", "query", "shown"),
    [
        ("/a", "", "/a"),
        ("/a\nFAKE 200", "", "/a%0AFAKE%20200"),  # no request can add a line to the log
        ("/\xf0\x9f\x98\x80", "q=\xff", "/%F0%9F%98%80?q=%FF"),
        ("/a", f"api_key={API_KEY}", "/a?api_key=***"),
        ("/a", 'x="', "/a?x=%22"),
    ],
)
def test_log_target_is_one_safe_token(path, query, shown):
    assert log_target({"PATH_INFO": path, "QUERY_STRING": query}) == shown


def _request(url, method, target, headers=None):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def settled_log(server, needles, timeout=10):
    """The server's log once it holds every needle: gunicorn logs a request just after answering it."""
    deadline = time.monotonic() + timeout
    log = server.log()
    while time.monotonic() < deadline and not all(needle in log for needle in needles):
        time.sleep(0.05)
        log = server.log()
    return log


def test_live_server_is_safe_by_default(live_server):
    """Bound to 127.0.0.1 and says so; no versions; one access-log line per request, no key in it."""
    server = live_server("--workers", "1")
    log = server.log()
    assert re.search(r"serving on http://127\.0\.0\.1:\d+ \(only this machine can connect\)", log)
    banner_curl = f"conversations-mock: try  curl -H 'X-API-Key: {API_KEY}' {server.url}{API_PATH}"
    assert banner_curl in log.splitlines()

    cases = [
        ("GET", API_PATH, {"X-API-Key": API_KEY}, 200),
        ("GET", f"{API_PATH}?api_key={API_KEY}", {"X-API-Key": API_KEY}, 422),
        ("GET", f"/chatbots/{API_KEY}/conversations", {"X-API-Key": API_KEY}, 422),
        ("GET", API_PATH, {"X-API-Key": API_KEY[:-1] + "X"}, 401),
        ("POST", f"/nowhere?token={API_KEY}", {}, 404),
    ]
    for number, (method, target, headers, status) in enumerate(cases):
        got_status, got_headers, body = _request(server.url, method, target, {**headers, "X-Request-ID": f"safety-{number}"})
        assert got_status == status, body
        names = [name.lower() for name, _ in got_headers]
        assert names.count("server") == 1
        values = dict((name.lower(), value) for name, value in got_headers)
        assert not re.search(r"\d", values["server"]), values["server"]  # no version numbers
        assert values["server"] == "gunicorn"
        assert values["x-content-type-options"] == "nosniff"
        assert values["x-request-id"] == f"safety-{number}"

    log = settled_log(server, [f"request_id=safety-{number} " for number in range(len(cases))])
    # The startup banner's curl line is the one place a key is printed; requests never are.
    assert [line for line in log.splitlines() if API_KEY[:-1] in line] == [banner_curl]
    for number, (method, target, _, status) in enumerate(cases):
        lines = [line for line in log.splitlines() if f"request_id=safety-{number} " in line]
        assert len(lines) == 1, log
        path = target.split("?")[0].replace(API_KEY, "***")
        assert re.search(rf'"{method} {re.escape(path)}[^"]*" {status} \d+ \d+ms request_id=safety-{number} worker=<\d+>$',
                         lines[0]), lines[0]


def _mask_by_regex_only(text):
    from conversations_mock.web.safety import _HEX_SECRET, _NAMED_SECRET, _SHAPED_SECRET, MASK

    text = _NAMED_SECRET.sub(lambda match: match.group(1) + match.group(2) + MASK, text)
    text = _SHAPED_SECRET.sub(lambda match: (match.group(1) or "") + MASK, text)
    return _HEX_SECRET.sub(MASK, text)


_WORDY = st.text(alphabet=st.sampled_from(
    list("keyKEYtokenTOKENsecretpasswordauthAUTHsessionbearerBEARERJ.=:&; %3D_-?/\u017f\u212a\u0130a0")))


@settings(max_examples=300, derandomize=True)
@given(st.one_of(_WORDY, st.text(max_size=60), st.text(alphabet=st.characters(max_codepoint=127), max_size=60)))
def test_masking_skips_the_regex_only_where_it_would_change_nothing(text):
    from conversations_mock.web.safety import mask_secrets

    assert mask_secrets(text) == _mask_by_regex_only(text)


@pytest.mark.parametrize("text", ["/x?api_KEY=abc", "/x?\u017fecret=abc", "/x?\u212aey=abc", "/x?Password=hunter2"])
def test_masking_still_masks_odd_spellings(text):
    from conversations_mock.web.safety import mask_secrets

    assert mask_secrets(text).endswith("=***")


def test_a_fresh_request_id_is_a_version_4_uuid():
    import uuid

    from conversations_mock.web.safety import request_id

    ids = [request_id({}) for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(uuid.UUID(hex=rid).version == 4 and uuid.UUID(hex=rid).hex == rid for rid in ids)


def test_forked_workers_make_different_request_ids():
    """gunicorn forks its workers from one master: each must draw its own ids, not repeat its siblings'."""
    import os

    from conversations_mock.web.safety import request_id

    request_id({})  # the master has drawn before forking
    drawn = []
    for _ in range(2):
        reading, writing = os.pipe()
        pid = os.fork()
        if pid == 0:  # a worker: draw three ids and report them
            os.close(reading)
            os.write(writing, " ".join(request_id({}) for _ in range(3)).encode())
            os._exit(0)
        os.close(writing)
        with os.fdopen(reading) as report:
            drawn.append(report.read().split())
        os.waitpid(pid, 0)
    assert len(drawn[0]) == len(drawn[1]) == 3
    assert not set(drawn[0]) & set(drawn[1])


def test_the_log_masks_by_meaning_as_the_journal_does():
    import logging

    from conversations_mock.web.safety import MaskSecrets

    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl"
    record = logging.LogRecord("mock", logging.INFO, __file__, 1, "sent %s and %s to %s",
                               ("X-Session-Id: s3ss", f"Bearer {jwt}", "/x?sessionid=abc&page=2"), None)
    MaskSecrets().filter(record)
    assert record.getMessage() == "sent X-Session-Id: *** and Bearer *** to /x?sessionid=***&page=2"
