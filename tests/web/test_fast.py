"""The fast path (web/fast.py): ordinary GETs answered without Flask, exactly as the view answers them."""

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations_mock import build_catalogue
from conversations_mock.schemas import PageQuery
from conversations_mock.web.admission import Admission
from conversations_mock.web.answers import answers_for
from conversations_mock.web.conversations import ROUTE
from tests.helpers import answer, requests_behind

KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"
OTHER_KEY = "0123456789abcdef0123456789abcdef0123456789abcdef"
DOCUMENTED = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
GENERATED = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
PATH = "/chatbots/{}/conversations"
ORIGIN = "https://app.example.test"


# (settings, path asked, headers, environ): each is asked of an app whose every request goes
# through Flask, and of one whose fast path has seen the key and Origin once (another page of another chatbot).
# Names a loopback mock answers besides localhost (web/hosts.py).
NAMED = {"allowed_hosts": ".example.test"}
CASES = [
    ({}, PATH.format(DOCUMENTED), {}, {}),
    ({}, PATH.format(DOCUMENTED) + "?state=closed&page_size=3&page=2", {}, {}),
    ({}, PATH.format(GENERATED) + "?page=2&page_size=7", {}, {}),
    ({}, PATH.format(GENERATED) + "?state=in_progress", {}, {}),
    ({}, PATH.format(GENERATED) + "?page=99999&page_size=100", {}, {}),
    ({}, PATH.format("9D5B1C0E-6A43-4F7E-8D21-0C3E5F4A7B99") + "?page=3", {}, {}),
    ({}, PATH.format("9d5b1c0e6a434f7e8d210c3e5f4a7b99"), {}, {}),
    ({}, PATH.format(GENERATED) + "?page=%32&state=resol%76ed", {}, {}),
    ({}, PATH.format(GENERATED) + "?page=4", {"Origin": ORIGIN}, {}),
    ({"cors_origins": ORIGIN}, PATH.format(GENERATED), {"Origin": ORIGIN}, {}),
    ({"cors_origins": ORIGIN}, PATH.format(GENERATED), {"Origin": "https://evil.example.test"}, {}),
    ({"cors_origins": ORIGIN}, PATH.format(GENERATED), {}, {}),
    ({"api_keys": KEY}, PATH.format(GENERATED) + "?page=2", {}, {}),
    ({"base_path": "/v1"}, "/v1" + PATH.format(GENERATED) + "?page=3", {}, {}),
    (NAMED, PATH.format(GENERATED), {}, {"HTTP_HOST": "Mock.Example.TEST:8080"}),
    (NAMED, PATH.format(GENERATED), {}, {"HTTP_HOST": "mock.example.test:443", "wsgi.url_scheme": "https"}),
    (NAMED, PATH.format(GENERATED), {}, {"HTTP_HOST": "xn--n3h.example.test"}),
    ({}, PATH.format(GENERATED), {}, {"HTTP_HOST": "[::1]:8000"}),
    ({}, PATH.format(GENERATED), {}, {"SCRIPT_NAME": "/mounted/here"}),
    ({}, PATH.format(GENERATED), {}, {"SCRIPT_NAME": "/caf\xc3\xa9 au lait"}),
]


@pytest.mark.parametrize("config, path, headers, environ", CASES)
def test_the_fast_path_answers_exactly_as_the_view(make_app, make_flask_app, config, path, headers, environ):
    view = make_flask_app(config)
    fast = make_app(config)
    calls = requests_behind(fast, "fast")
    prefix = "/v1" if config.get("base_path") else ""
    answer(fast, prefix + PATH.format("11111111-2222-4333-8444-555555555555") + "?page=9", headers, **environ)
    assert len(calls) == 1  # the first request of a key and Origin goes through Flask, which learns them
    expected = answer(view, path, headers, **environ)
    assert expected[0] == "200 OK"
    assert answer(fast, path, headers, **environ) == expected
    assert len(calls) == 1


def test_new_pages_and_chatbots_skip_flask_after_the_first_request(make_app):
    app = make_app(NAMED)
    calls = requests_behind(app, "fast")
    paths = [PATH.format(f"{n:08x}-0000-4000-8000-{n:012x}") for n in range(5)]
    paths += [PATH.format(GENERATED) + f"?page={page}&state=closed" for page in range(1, 6)]
    responses = [answer(app, path) for path in paths]
    assert all(status == "200 OK" for status, _, _ in responses)
    assert all(orjson.loads(body) for _, _, body in responses[:5])
    assert len(calls) == 1
    answer(app, PATH.format(GENERATED), {"Origin": ORIGIN})
    answer(app, PATH.format(GENERATED) + "?page=2", {"Origin": ORIGIN})
    assert len(calls) == 2  # a new Origin: once through Flask, which learns its CORS headers
    for n in range(3):
        answer(app, PATH.format(f"{n:08x}-0000-4000-8000-{n:012x}"), HTTP_HOST="other.example.test")
    assert len(calls) == 3  # a new host: once through Flask, which routes it and makes its root URL


@pytest.mark.parametrize(
    "config, path, headers, method, status",
    [
        ({}, PATH.format(GENERATED), {"Prefer": "example=empty"}, "GET", "200 OK"),
        ({}, PATH.format(GENERATED), {"Prefer": "code=503"}, "GET", "503 SERVICE UNAVAILABLE"),
        ({}, PATH.format(GENERATED), {}, "HEAD", "200 OK"),
        ({}, PATH.format(GENERATED) + "?page=0", {}, "GET", "422 UNPROCESSABLE ENTITY"),
        ({}, PATH.format(GENERATED) + "?page=2&page=3", {}, "GET", "422 UNPROCESSABLE ENTITY"),
        ({}, PATH.format(GENERATED) + "?pgae=2", {}, "GET", "422 UNPROCESSABLE ENTITY"),
        ({}, PATH.format("not-a-uuid"), {}, "GET", "422 UNPROCESSABLE ENTITY"),
        ({}, PATH.format("{" + GENERATED + "}"), {}, "GET", "422 UNPROCESSABLE ENTITY"),
        ({}, PATH.format("urn:uuid:" + GENERATED), {}, "GET", "422 UNPROCESSABLE ENTITY"),
        ({}, PATH.format("%209d5b1c0e6a434f7e8d210c3e5f4a7b9"), {}, "GET", "422 UNPROCESSABLE ENTITY"),
        ({}, PATH.format(GENERATED) + "/", {}, "GET", "404 NOT FOUND"),
        ({}, PATH.format(GENERATED), {"X-API-Key": "not-a-key"}, "GET", "401 UNAUTHORIZED"),
        ({"api_keys": KEY}, PATH.format(GENERATED), {"X-API-Key": OTHER_KEY}, "GET", "401 UNAUTHORIZED"),
        ({}, PATH.format(GENERATED), {"Connection": "Upgrade", "Upgrade": "websocket"}, "GET", "400 BAD REQUEST"),
    ],
)
def test_what_the_fast_path_leaves_to_flask(make_app, make_flask_app, config, path, headers, method, status):
    fast = make_app(config)
    calls = requests_behind(fast, "fast")
    answer(fast, PATH.format(GENERATED) + "?page=5")
    expected = answer(make_flask_app(config), path, headers, method)
    assert expected[0] == status
    assert answer(fast, path, headers, method) == expected
    assert len(calls) == 2  # the request above went through Flask too


def test_a_fixture_reload_is_noticed_by_the_fast_path(make_app, write_fixture):
    def fixture(count):
        return {"chatbots": [{"id": GENERATED, "generated": {"count": count}}]}

    directory = write_fixture("data.json", fixture(5))
    app = make_app({"fixtures_dir": str(directory), "reload": "true"})
    app.extensions["layers"]["reload"].reloader.interval = 0  # look at the files on every request
    calls = requests_behind(app, "fast")
    assert answer(app, PATH.format(GENERATED))[0] == "200 OK"
    (directory / "data.json").write_text(orjson.dumps(fixture(8)).decode(), encoding="utf-8")
    status, headers, body = answer(app, PATH.format(GENERATED) + "?page=1&page_size=10")
    assert ("X-Total-Count", "8") in headers and len(orjson.loads(body)) == 8
    assert len(calls) == 1


def test_a_body_goes_to_flask_and_is_checked(make_app):
    app = make_app()
    calls = requests_behind(app, "fast")
    answer(app, PATH.format(GENERATED))
    response = app.test_client().get(
        PATH.format(GENERATED) + "?page=2", headers={"X-API-Key": KEY}, data="{", content_type="application/json"
    )
    assert response.status_code == 400
    assert len(calls) == 2


def test_a_failure_in_the_lane_is_answered_by_flask_as_a_problem(make_app, monkeypatch, caplog):
    app = make_app()
    calls = requests_behind(app, "fast")
    answer(app, PATH.format(GENERATED))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the page builder")

    monkeypatch.setattr(app.extensions["catalogue"], "page", broken)
    for page in (2, 3):
        status, headers, body = answer(app, PATH.format(GENERATED) + f"?page={page}")
        assert status == "500 INTERNAL SERVER ERROR"
        assert ("Content-Type", "application/problem+json") in headers
        assert orjson.loads(body)["status"] == 500 and b"a bug" not in body
    assert len(calls) == 3
    lane_said = [record for record in caplog.records if "fast path failed" in record.getMessage()]
    assert len(lane_said) == 1  # once, not per request


_NAMES = st.sampled_from(["page", "page_size", "state", "pgae", "", "page%5Fsize", "Page"])
_VALUES = st.sampled_from(
    ["1", "2", "10", "100", "101", "0", "-1", "+2", " 3", "1.0", "x", "", "%31", "%FF", "99999",
     "2147483647", "2147483648", "resolved", "closed", "in_progress", "Resolved", "in%5Fprogress", "2=3",
     "1;state=closed", "in progress"]
)
_QUERIES = st.lists(st.tuples(_NAMES, st.sampled_from(["=", ""]), _VALUES), max_size=4).map(
    lambda parts: "&".join(name + sep + (value if sep else "") for name, sep, value in parts)
)


@pytest.fixture(scope="module")
def app_pair():
    """An app whose every request goes through Flask, and one with the fast path."""
    from conversations_mock import create_app

    # Any Host answered (web/hosts.py refuses unknown names on loopback): the links are what is compared.
    view, fast = create_app({"allowed_hosts": "*"}), create_app({"allowed_hosts": "*"})
    view.extensions["layers"]["fast"].enabled = False
    answer(fast, PATH.format(GENERATED))
    return view, fast


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=_QUERIES)
def test_any_query_gets_the_views_answer(app_pair, query):
    view, fast = app_pair
    path = PATH.format(GENERATED) + "?" + query
    assert answer(fast, path) == answer(view, path)


_HOSTS = st.text(alphabet="abcXYZ019.-:[]_%@/?#", max_size=14) | st.sampled_from(
    ["localhost", "LOCALHOST:80", "example.test:8443", "xn--n3h.test", "[::1]", "[::1]:80", "a.b.c:0", ".", "a..b"]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=_HOSTS, scheme=st.sampled_from(["http", "https"]), script=st.sampled_from(["", "/m", "/a%20b", "/x/"]))
def test_any_host_and_mount_get_the_views_links(app_pair, host, scheme, script):
    view, fast = app_pair
    environ = {"HTTP_HOST": host, "wsgi.url_scheme": scheme, "SCRIPT_NAME": script}
    answer(fast, PATH.format(DOCUMENTED), **environ)  # the host's first request: Flask routes it, or refuses
    path = PATH.format(f"{len(host):08x}-{len(scheme):04x}-4000-8000-{len(script):012x}") + "?page=2"
    assert answer(fast, path, **environ) == answer(view, path, **environ)


def test_admission_remembers_within_its_bound():
    admission = Admission([ROUTE])
    admission.memo.limit = 50
    for n in range(200):
        environ = {"PATH_INFO": PATH.format(f"{n:08x}-0000-4000-8000-{n:012x}"), "QUERY_STRING": f"page={n + 1}",
                   "SCRIPT_NAME": "", "HTTP_HOST": "localhost", "wsgi.url_scheme": "http"}
        if n % 40 == 0:  # as the view does for a host it routed (the root may have been forgotten since)
            admission.learn_path(environ, ROUTE, {"chatbot_id": "some-id"}, "http://localhost/some/path",
                                 "http://localhost/")
        else:
            chatbot = {"chatbot_id": f"{n:08x}-0000-4000-8000-{n:012x}"}
            assert admission.path(environ) == (ROUTE, chatbot, f"http://localhost{environ['PATH_INFO']}")
        assert admission.query(environ, ROUTE) == PageQuery(n + 1, 10, None)
    assert len(admission.memo) <= 50


def test_the_scheme_is_never_answered_from_the_other_ones_memo(make_app, make_flask_app):
    # The Link header's URLs carry the scheme: an https request must not get what http was answered.
    fast, view = make_app(NAMED), make_flask_app(NAMED)
    asked = [("http", 1), ("http", 2), ("https", 2), ("https", 3), ("http", 3)]
    for scheme, page in asked:
        path = PATH.format(GENERATED) + f"?page={page}"
        got = answer(fast, path, HTTP_HOST="mock.example.test", **{"wsgi.url_scheme": scheme})
        assert got == answer(view, path, HTTP_HOST="mock.example.test", **{"wsgi.url_scheme": scheme})
        assert dict(got[1])["Link"].startswith(f"<{scheme}://mock.example.test/")


@pytest.mark.parametrize(
    "headers, status, body",
    [
        ({"Prefer": "example=empty"}, 200, []),
        ({"Prefer": "code=503"}, 503, None),
        ({"Prefer": "dealy=100"}, 422, None),
        ({"X-API-Key": OTHER_KEY}, 401, None),
        ({"X-API-Key": "not-a-key"}, 401, None),
        # werkzeug's router refuses a websocket upgrade to the route: a fast 200 would hide that.
        ({"Connection": "Upgrade", "Upgrade": "websocket"}, 400, None),
    ],
)
def test_flask_answers_prefer_and_other_keys_every_time(make_app, headers, status, body):
    app = make_app({"api_keys": KEY})
    calls = requests_behind(app, "fast")
    client = app.test_client()
    path = PATH.format(GENERATED)
    assert client.get(path, headers={"X-API-Key": KEY}).status_code == 200
    for _ in range(2):
        response = client.get(path, headers={"X-API-Key": KEY, **headers})
        assert response.status_code == status
        if body is not None:
            assert response.get_json() == body
    assert len(calls) == 3


@pytest.mark.parametrize(
    "path, status", [(PATH.format("not-a-uuid"), 422), (PATH.format(GENERATED) + "?page=0", 422), ("/nowhere", 404)]
)
def test_flask_answers_every_error(make_app, path, status):
    app = make_app()
    calls = requests_behind(app, "fast")
    client = app.test_client()
    for _ in range(3):
        assert client.get(path, headers={"X-API-Key": KEY}).status_code == status
    assert len(calls) == 3


def test_a_body_that_does_not_parse_is_refused_after_plain_answers(make_app):
    app = make_app()
    client = app.test_client()
    path = PATH.format(GENERATED)
    for _ in range(2):
        assert client.get(path, headers={"X-API-Key": KEY}).status_code == 200
    response = client.get(path, headers={"X-API-Key": KEY}, data="{", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("config", [{"latency": "1"}, {"error_rate": "0.5"}])
def test_chaos_settings_are_drawn_on_the_fast_path_as_by_the_view(make_app, make_flask_app, config):
    fast, view = make_app(config), make_flask_app(config)
    calls = requests_behind(fast, "fast")
    paths = [PATH.format(GENERATED) + f"?page={n}" for n in range(1, 13)]
    # Teaches the fast path the key: the view learns it only from a request it answers 200.
    assert any(answer(fast, PATH.format(DOCUMENTED) + f"?page_size={size}")[0] == "200 OK" for size in range(1, 9))
    before = len(calls)
    answers = [answer(fast, path) for path in paths]
    assert [answer(view, path) for path in paths] == answers
    statuses = {status for status, _, _ in answers}
    if "error_rate" in config:
        assert statuses == {"200 OK", "500 INTERNAL SERVER ERROR"}
        # Only the failures went to the view: the fast path answered the others itself.
        assert len(calls) - before == sum(status != "200 OK" for status, _, _ in answers)
    else:
        assert statuses == {"200 OK"} and len(calls) == before


def _fixture(count):
    return {"chatbots": [{"id": GENERATED, "generated": {"count": count}}]}


def test_swapped_data_is_never_answered_from_before(make_app, write_fixture, tmp_path):
    app = make_app()
    client = app.test_client()
    path = PATH.format(GENERATED)
    before = [client.get(path, headers={"X-API-Key": KEY}) for _ in range(2)]
    directory = write_fixture("seven.json", _fixture(7))
    # What a fixture reload and the pytest plugin's load_fixture do: a new catalogue, swapped in whole.
    app.extensions["catalogue"] = build_catalogue(app.config["SETTINGS"], [directory])
    after = client.get(path, headers={"X-API-Key": KEY})
    assert before[0].headers["X-Total-Count"] == before[1].headers["X-Total-Count"] != "7"
    assert after.headers["X-Total-Count"] == "7"
    assert len(after.get_json()) == 7


def test_a_fixture_reload_is_noticed_on_repeats(make_app, write_fixture):
    directory = write_fixture("data.json", _fixture(5))
    app = make_app({"fixtures_dir": str(directory), "reload": "true"})
    app.extensions["layers"]["reload"].reloader.interval = 0  # look at the files on every request
    client = app.test_client()
    path = PATH.format(GENERATED)
    assert [client.get(path, headers={"X-API-Key": KEY}).headers["X-Total-Count"] for _ in range(2)] == ["5", "5"]
    (directory / "data.json").write_text(json.dumps(_fixture(8)), encoding="utf-8")
    assert client.get(path, headers={"X-API-Key": KEY}).headers["X-Total-Count"] == "8"


@pytest.mark.parametrize("cors_origins", ["*", "https://app.example.test"])
def test_each_origin_gets_the_views_cors_answer(make_app, make_flask_app, cors_origins):
    full = make_flask_app({"cors_origins": cors_origins})
    fast = make_app({"cors_origins": cors_origins})
    path = PATH.format(GENERATED)
    origins = [None, "https://app.example.test", "https://evil.example.test"] * 2
    for origin in origins:
        headers = {"X-API-Key": KEY, **({"Origin": origin} if origin else {})}
        assert answer(fast, path, headers) == answer(full, path, headers)


def test_get_and_head_are_kept_apart(make_app):
    client = make_app().test_client()
    path = PATH.format(GENERATED)
    for method in ("GET", "HEAD", "GET", "HEAD"):
        response = client.open(path, method=method, headers={"X-API-Key": KEY})
        assert (response.get_data() == b"") == (method == "HEAD")
        assert int(response.headers["Content-Length"]) > 2


def test_through_gunicorn_a_repeat_is_the_same_answer_and_logged(live_server):
    import http.client
    import time
    from urllib.parse import urlsplit

    server = live_server("--workers", "1")
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    path = PATH.format(GENERATED) + "?page=2&page_size=5"
    answers = []
    for rid in ("first-request", "second-request"):
        connection.request("GET", path, headers={"X-API-Key": KEY, "X-Request-ID": rid})
        response = connection.getresponse()
        headers = [(name, value) for name, value in response.getheaders() if name not in ("Date", "X-Request-ID")]
        answers.append((response.status, headers, response.read(), response.getheader("X-Request-ID")))
    connection.request("GET", path, headers={"X-API-Key": KEY, "Prefer": "example=empty"})
    preferred = connection.getresponse()
    assert preferred.read() == b"[]"
    connection.close()
    assert answers[0][:3] == answers[1][:3] and answers[0][0] == 200
    assert [answer[3] for answer in answers] == ["first-request", "second-request"]
    deadline = time.monotonic() + 10
    while "request_id=second-request" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next(line for line in server.log().splitlines() if "request_id=second-request" in line)
    assert f'"GET {path}" 200 {len(answers[1][2])} ' in line


# (method, headers) of the requests a browser or a client repeats: plain, CORS (with the private
# network ask that flask-cors answers yes), a preflight and HEAD.
REPEATED = [
    ("GET", {}),
    ("GET", {"Origin": ORIGIN}),
    ("GET", {"Origin": ORIGIN, "Access-Control-Request-Private-Network": "true"}),
    ("OPTIONS", {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}),
    ("OPTIONS", {"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Private-Network": "true"}),
    ("HEAD", {}),
    ("HEAD", {"Origin": ORIGIN}),
]


@pytest.mark.parametrize("cors_origins", ["*", ORIGIN])
@pytest.mark.parametrize("method, headers", REPEATED)
def test_a_request_is_answered_the_same_the_first_second_and_third_time(
    make_app, make_flask_app, cors_origins, method, headers
):
    config = {"cors_origins": cors_origins}
    fast, view = make_app(config), make_flask_app(config)
    path = PATH.format(GENERATED) + "?page=2"
    expected = answer(view, path, headers, method)
    assert [answer(fast, path, headers, method) for _ in range(3)] == [expected] * 3
    if "Access-Control-Request-Private-Network" in headers and method == "GET":
        assert ("Access-Control-Allow-Private-Network", "true") in expected[1]


def test_a_new_page_route_is_served_fast_without_changing_the_fast_path(app):
    """What a newcomer adds for a second endpoint: a PageRoute and a view that teaches the Admission."""
    from flask import Flask, Response, request

    from conversations_mock.schemas import ChatbotPathSchema, ConversationsQuerySchema
    from conversations_mock.web.fast import FastPages
    from conversations_mock.web.pages import PageRoute, page_headers

    def newest(catalogue, values, query, at):
        return catalogue.page(values["chatbot_id"], PageQuery(query.page, 1, query.state), at=at)

    route = PageRoute("/chatbots/<chatbot_id>/newest", ChatbotPathSchema(), ConversationsQuerySchema(), newest)
    admission = Admission([route])
    other = Flask("newcomer")
    other.extensions["catalogue"] = app.extensions["catalogue"]

    @other.get(route.rule)
    def view(chatbot_id):
        environ = request.environ
        values = route.path_schema.load({"chatbot_id": chatbot_id})
        query = route.query_schema.load(request.args.to_dict())
        admission.learn_key(environ)
        admission.learn_path(environ, route, values, request.base_url, request.root_url)
        admission.learn_query(environ, route, query)
        catalogue = other.extensions["catalogue"]
        at = catalogue.clock.now_us()
        total, body = route.page(catalogue, values, query, at)
        return Response(body, headers=page_headers(request.base_url, query, total, body, at))

    fast = FastPages(other.wsgi_app, app=other, admission=admission, cors_headers=lambda environ: (),
                     answers=answers_for({"latency": (0, 0), "error_rate": 0}, None))
    other.wsgi_app = fast
    other.extensions["layers"] = {"fast": fast}
    calls = requests_behind(other, "fast")
    paths = [f"/chatbots/{n:08x}-0000-4000-8000-{n:012x}/newest?page={n + 1}" for n in range(4)]
    answers = [answer(other, path) for path in paths]
    assert len(calls) == 1  # only the first request went through Flask's view
    fast.enabled = False
    assert [answer(other, path) for path in paths] == answers
    assert all(status == "200 OK" and len(orjson.loads(body)) == 1 for status, _, body in answers)
