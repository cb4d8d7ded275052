"""`conversations-mock verify` passes our own server and names each mistake of a wrong one."""

import json
import socket
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from flask import Flask, Response, request
from werkzeug.serving import WSGIRequestHandler, make_server

from conversations_mock import create_app
from conversations_mock.commands.cli import main
from conversations_mock.data.generator import GeneratedHistory
from conversations_mock.data.messages import MessagePools
from conversations_mock.schemas import STATES
from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, GENERATED_CHATBOT, documented_commands

CHATBOT = "3f1c9a2e-7b4d-4e8f-9a6b-2c5d8e1f0a37"
OTHER = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@contextmanager
def serving(wsgi_app):
    """Serve a WSGI app on 127.0.0.1, a free port, in a thread; yield its URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def verify(base_url, *extra, chatbot=CHATBOT):
    return main(["verify", "--base-url", base_url, "--api-key", API_KEY, "--chatbot", chatbot, *extra])


# A faithful implementation of the API over 37 conversations, and one mistake per URL prefix.
HISTORY = GeneratedHistory(CHATBOT, 3, 37, MessagePools()).page(None, 0, 37)
ITEM_MISTAKES = {
    "wrong-field-type": lambda item: {**item, "is_human_mode": "false"},
    "missing-field": lambda item: {k: v for k, v in item.items() if k != "session_token"},
    "extra-field": lambda item: {**item, "tags": []},
    "wrong-key-order": lambda item: dict(reversed(list(item.items()))),
    "wrong-chatbot-id": lambda item: {**item, "chatbot_id": OTHER},
    "wrong-platform-shape": lambda item: item if item["platform"] == "voice"
    else {**item, "voice_path": "conversation-voice_assistant_room_1.ogg"},
    # What a real deployment's wrong answers hold: people's data, which a report must not print.
    "personal-phone": lambda item: {**item, "platform": "whatsapp", "voice_path": None,
                                    "sns_user_id": "+82-10-5550-1234"},
    "personal-email": lambda item: {**item, "user_id": "jane.doe@example.com"},
}
PERSONAL = ["+82-10-5550-1234", "jane.doe@example.com", "5550", "jane"]


def _refuse(mistake, status):
    if mistake == "html-error-pages":
        return Response(f"<html><body><h1>Error {status}</h1></body></html>", status, mimetype="text/html")
    if mistake == "400-for-bad-input" and status == 422:
        status = 400
    body = {"type": "about:blank", "title": "Refused", "status": status, "detail": "Refused."}
    return Response(json.dumps(body), status, mimetype="application/problem+json")


def _whole(text, low, high):
    return int(text) if text.isdigit() and low <= int(text) <= high else None


def wrong_api():
    """A small API server that makes the mistake named by the first path segment ('correct': none)."""
    app = Flask("wrong_api")

    @app.get("/<mistake>/chatbots/<chatbot_id>/conversations")
    def conversations(mistake, chatbot_id):
        if "X-API-Key" not in request.headers and mistake != "accepts-missing-key":
            return _refuse(mistake, 401)
        try:
            uuid.UUID(chatbot_id)
        except ValueError:
            return _refuse(mistake, 422)
        page = _whole(request.args.get("page", "1"), 1, 10**6)
        size = _whole(request.args.get("page_size", "10"), 1, 100)
        state = request.args.get("state")
        if page is None or size is None or state not in (None, *STATES):
            return _refuse(mistake, 422)
        if mistake == "redirects":
            return Response("", 302, headers={"Location": request.full_path.replace("/redirects/", "/correct/")})
        if mistake == "slow":
            time.sleep(2)
        if mistake == "ignores-page-size":
            size = 10
        items = HISTORY[::-1] if mistake == "oldest-first" else HISTORY
        if state and mistake != "ignores-state-filter":
            items = [item for item in items if item["state"] == state]
        offset = (page - 1) * size - (1 if mistake == "duplicates-across-pages" and page > 1 else 0)
        chunk = [ITEM_MISTAKES.get(mistake, dict)(item) for item in items[offset : offset + size]]
        body = {"data": chunk} if mistake == "wrapped-in-object" else chunk
        total = len(items) + (1 if mistake == "total-count-off-by-one" else 0)
        mimetype = "text/plain" if mistake == "json-as-text" else "application/json"
        return Response(json.dumps(body), mimetype=mimetype, headers={"X-Total-Count": str(total)})

    return app


@pytest.fixture(scope="module")
def wrong_server():
    with serving(wrong_api()) as url:
        yield url


def test_faithful_server_passes(wrong_server, capsys):
    assert verify(f"{wrong_server}/correct") == 0
    out = capsys.readouterr().out
    assert "MISMATCH" not in out
    assert "OK: no mismatches in" in out and "37 conversations checked" in out


# (mistake, check, detail shown by default: where and which rule, the value's shape, detail with --show-values)
MISTAKES = [
    ("wrong-field-type", "field-type", "is_human_mode (a string of 5 characters: lowercase letters): Not a valid boolean.",
     'is_human_mode = "false": Not a valid boolean.'),
    ("missing-field", "missing-field", "missing session_token", None),
    ("extra-field", "extra-field", "fields the document does not have: tags", None),
    ("wrong-key-order", "key-order", "keys in this order: voice_path, user_id, updated_at", None),
    ("wrong-chatbot-id", "chatbot-id",
     "chatbot_id (a string of 36 characters: lowercase letters, digits and '-'), another chatbot's",
     f"chatbot_id = \"{OTHER}\""),
    ("wrong-platform-shape", "platform-shape",
     "voice_path (a string of 39 characters: lowercase letters, digits, '-', '.' and '_') (platform ",
     'voice_path = "conversation-voice_assistant_room_1.ogg" (platform '),
    ("personal-phone", "platform-shape",
     "item 0: sns_user_id (a string of 16 characters: digits, '+' and '-') (platform whatsapp): Must be ",
     'sns_user_id = "+82-10-5550-1234" (platform whatsapp): Must be '),
    ("personal-email", "field-type",
     "item 0: user_id (a string of 20 characters: lowercase letters, '.' and '@'): Not a valid UUID.",
     'user_id = "jane.doe@example.com": Not a valid UUID.'),
    ("oldest-first", "order", "the conversation at position 2 is newer (created_at later) than the one before it, "
     "at position 1", "comes after the older"),
    ("duplicates-across-pages", "duplicates", "1 already listed on this or an earlier page: the conversation at "
     "position 11", "1 already listed on this or an earlier page: "),
    ("ignores-page-size", "page-size", "expected: at most 5 items\n  got:      10 items", None),
    ("ignores-state-filter", "state-filter", "expected: only conversations in state in_progress", None),
    ("accepts-missing-key", "auth", "without X-API-Key\n  expected: status 401\n  got:      200", None),
    ("html-error-pages", "error-content-type",
     "got:      Content-Type: text/html; charset=utf-8: a body of 4",
     "got:      Content-Type: text/html; charset=utf-8: <html>"),
    ("400-for-bad-input", "error-status", "got:      400, a refusal, but the mock answers 422", None),
    ("wrapped-in-object", "bare-array", "got:      an object with keys data", None),
    ("total-count-off-by-one", "total-count", "expected: X-Total-Count 37, the conversations the walk found", None),
    ("json-as-text", "content-type", "got:      Content-Type: text/plain", None),
    ("redirects", "status", "expected: 200 with a page of conversations\n  got:      302: a body of 0 bytes",
     "got:      302: "),
]


@pytest.mark.parametrize("mistake, check, detail, value_detail", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_mistake_is_reported_by_name(wrong_server, capsys, mistake, check, detail, value_detail):
    assert verify(f"{wrong_server}/{mistake}") == 1
    out = capsys.readouterr().out
    assert f"MISMATCH [{check}] GET /chatbots/" in out
    assert detail in out
    assert "\nFAIL: " in out and f"{check} " in out.rsplit("FAIL: ", 1)[1]
    # The values are shown only when asked for.
    assert verify(f"{wrong_server}/{mistake}", "--show-values") == 1
    shown = capsys.readouterr().out
    assert (value_detail or detail) in shown


def test_a_report_never_prints_the_data_it_found_unless_asked(wrong_server, capsys):
    # Against a real deployment the report lands in CI logs: neither values nor ids, nor the start of a body.
    ids = [item["id"] for item in HISTORY]
    for mistake in ("personal-phone", "personal-email", "oldest-first", "duplicates-across-pages", "ignores-state-filter",
                    "wrong-key-order", "html-error-pages"):
        verify(f"{wrong_server}/{mistake}")
        out = capsys.readouterr().out
        assert not [text for text in PERSONAL + ids if text in out], mistake
        assert "<html>" not in out
    verify(f"{wrong_server}/personal-phone", "--show-values")
    verify(f"{wrong_server}/personal-email", "--show-values")
    out = capsys.readouterr().out
    assert all(text in out for text in PERSONAL)


def test_report_shows_request_expected_and_got(wrong_server, capsys):
    assert verify(f"{wrong_server}/wrong-key-order") == 1
    out = capsys.readouterr().out
    first = out.split("\n\n")[1].splitlines()
    assert first[0] == f"MISMATCH [key-order] GET /chatbots/{CHATBOT}/conversations?page=1&page_size=10"
    assert first[1].startswith("  expected: keys in the documented order: active, chatbot_id, created_at,")
    assert first[2].startswith("  got:      item 0: keys in this order") and first[2].endswith(
        " (and 9 more items on this page)")
    # Each conversation is held to the item rules once, however many requests list it.
    assert out.count("MISMATCH [key-order]") == 4  # the four pages of the walk


@pytest.fixture(scope="module")
def own_server():
    with serving(create_app({"base_path": "/v1"})) as url:
        yield f"{url}/v1"


@pytest.mark.parametrize("chatbot", [DOCUMENTED_CHATBOT, GENERATED_CHATBOT])
def test_own_server_passes(own_server, capsys, chatbot):
    assert verify(own_server, chatbot=chatbot) == 0
    out = capsys.readouterr().out
    assert "OK: no mismatches" in out and "note:" not in out


def test_page_limit_bounds_the_walk_and_says_so(own_server, capsys):
    assert verify(own_server, "--max-pages", "2", chatbot=GENERATED_CHATBOT) == 0
    out = capsys.readouterr().out
    assert "note: the walk with page_size=10 stopped at --max-pages 2; later pages are unchecked" in out
    requests = int(out.split(" requests,")[0].rsplit(" ", 1)[1])
    assert requests <= 2 + 4 + 3 * 2 + 5


def test_the_documented_example_passes_against_the_mock(capsys):
    [argv] = [argv for argv in documented_commands() if argv[0] == "verify"]
    # As printed, it checks the server `make run` starts; here the same app on a free port.
    base_url = argv.index("--base-url") + 1
    assert argv[base_url] == "http://127.0.0.1:8000"
    with serving(create_app()) as url:
        argv[base_url] = url
        assert main(argv) == 0
    assert "OK: no mismatches" in capsys.readouterr().out


def test_live_gunicorn_server_passes(live_server, capsys):
    server = live_server("--workers", "2")
    assert verify(server.url, chatbot=GENERATED_CHATBOT) == 0
    assert "OK: no mismatches" in capsys.readouterr().out


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_server_exits_2(capsys):
    url = f"http://127.0.0.1:{_closed_port()}"
    assert verify(url) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"conversations-mock verify: cannot reach {url}: GET /chatbots/") and err.count("\n") == 1


def test_timeout_counts_as_unreachable(wrong_server, capsys):
    assert verify(f"{wrong_server}/slow", "--timeout", "0.3") == 2
    assert "timed out" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--base-url", "ftp://host", "--chatbot", CHATBOT], "--base-url 'ftp://host' is not an http(s) URL"),
        (["--base-url", "http://127.0.0.1:1", "--chatbot", "abc"], "--chatbot 'abc' is not a UUID"),
        (["--base-url", "http://127.0.0.1:1", "--chatbot", "urn:uuid:5afe16ed-5fd2-4552-a993-903bc9c32bb6"],
         "is not a UUID"),
        (["--base-url", "http://127.0.0.1:1", "--chatbot", CHATBOT, "--max-pages", "0"], "--max-pages '0'"),
        (["--base-url", "http://127.0.0.1:1", "--chatbot", CHATBOT, "--timeout", "x"], "--timeout 'x'"),
        (["--base-url", "http://127.0.0.1:1", "--chatbot", CHATBOT, "--api-key", ""], "--api-key is empty; give"),
        (["--base-url", "http://127.0.0.1:1", "--chatbot", CHATBOT, "--api-key", " \t"], "--api-key is empty; give"),
        (["--base-url", "http://127.0.0.1:1", "--chatbot", CHATBOT, "--api-key", f" {API_KEY}"],
         "--api-key starts or ends with white space"),
        (["--base-url", "http://127.0.0.1:1", "--chatbot", CHATBOT, "--api-key", "a\nb"],
         "--api-key has characters a header cannot carry"),
        (["--base-url", "http://127.0.0.1:1", "--chatbot", CHATBOT, "--api-key", "\u043a\u043b\u044e\u0447"],
         "--api-key has characters a header cannot carry"),
    ],
    ids=["scheme", "chatbot", "chatbot-urn", "max-pages", "timeout", "empty-key", "blank-key", "spaced-key",
         "newline-key", "non-ascii-key"],
)
def test_bad_arguments_exit_2_with_one_line(capsys, args, message):
    assert main(["verify", "--api-key", API_KEY, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert API_KEY not in err  # a key is a secret: never echoed
    if "--api-key" in message:
        assert "X-API-Key: printable ASCII characters" in err


def test_a_body_is_read_up_to_its_bound(monkeypatch):
    # A wrong server that answers without end must not fill verify's memory.
    from conversations_mock.commands import verify as verify_module

    monkeypatch.setattr(verify_module, "MAX_BODY", 64 * 1024)

    def endless(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return (b"[" + b" " * 65535 for _ in range(64))  # 4 MiB, streamed

    with serving(endless) as url:
        reply = verify_module.Client(url, API_KEY, timeout=10).get("/x")
    assert reply.status == 200 and len(reply.body) == 64 * 1024


def test_proxies_are_used_for_other_hosts_never_for_this_machine(monkeypatch):
    from conversations_mock.commands.verify import Client

    def recording(asked):
        def app(environ, start_response):  # records the host and path it was asked for
            asked.append((environ.get("HTTP_HOST"), environ["PATH_INFO"]))
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"[]"]

        return app

    through_proxy, direct = [], []
    with serving(recording(through_proxy)) as proxy_url, serving(recording(direct)) as local_url:
        monkeypatch.setenv("http_proxy", proxy_url)  # a forward proxy on 127.0.0.1
        monkeypatch.setenv("no_proxy", "")
        assert Client("http://api.example.test", API_KEY, timeout=10).get("/v1/x").status == 200
        assert Client(local_url, API_KEY, timeout=10).get("/local").status == 200
    assert through_proxy == [("api.example.test", "/v1/x")]
    assert direct == [(local_url.removeprefix("http://"), "/local")]


@pytest.mark.parametrize("value, described", [
    ("+82-10-5550-1234", "a string of 16 characters: digits, '+' and '-'"),
    ("Jane Doe", "a string of 8 characters: lowercase letters, uppercase letters and spaces"),
    ("김민준", "a string of 3 characters: non-ASCII characters"),
    ("a\nb", "a string of 3 characters: lowercase letters and control characters"),
    ("", "a string of 0 characters"),
    (821055501234, "an integer of 12 digits"), (-5, "a negative integer of 1 digit"), (1.5, "a decimal number"),
    (False, "a boolean"), (None, "null"), ([1, 2], "an array of 2 items"), ({"a": "secret"}, "an object of 1 key"),
])
def test_a_values_shape_says_what_it_is_not_what_it_says(value, described):
    from conversations_mock.commands.verify_checks import shape

    assert shape(value) == described
