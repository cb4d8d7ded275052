"""Replays of exact repeats (app/fastpath.py): the same bytes as the full path, and only when safe."""

import json

import pytest
from conversations_mock import build_catalogue
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import answer, requests_behind

KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"
OTHER_KEY = "0123456789abcdef0123456789abcdef0123456789abcdef"
DOCUMENTED = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
GENERATED = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
PATH = "/chatbots/{}/conversations"


CASES = [
    ({}, "GET", PATH.format(DOCUMENTED), {}),
    ({}, "GET", PATH.format(GENERATED) + "?page=2&page_size=7", {}),
    ({}, "GET", PATH.format(GENERATED) + "?state=resolved&page=1&page_size=3", {}),
    ({}, "HEAD", PATH.format(GENERATED), {}),
    ({}, "GET", PATH.format(GENERATED), {"Origin": "https://app.example.test"}),
    ({}, "GET", PATH.format(GENERATED) + "?page=999", {}),
    ({"api_keys": KEY}, "GET", PATH.format(GENERATED), {}),
    ({"base_path": "/v1"}, "GET", "/v1" + PATH.format(GENERATED) + "?page=3", {}),
    ({"cors_origins": "https://app.example.test"}, "GET", PATH.format(DOCUMENTED), {"Origin": "https://app.example.test"}),
    ({"cors_origins": "https://app.example.test"}, "GET", PATH.format(DOCUMENTED), {"Origin": "https://evil.example.test"}),
]


@pytest.mark.parametrize("config, method, path, headers", CASES)
def test_a_replay_is_byte_identical_to_the_full_path(make_app, make_flask_app, config, method, path, headers):
    full = make_flask_app(config)
    fast = make_app(config)
    calls = requests_behind(fast, "replay")
    headers = {"X-API-Key": KEY, **headers}
    expected = answer(full, path, headers, method)
    first = answer(fast, path, headers, method)
    replayed = answer(fast, path, headers, method)
    assert expected[0] == "200 OK"
    assert first == expected
    assert replayed == expected
    assert len(calls) == 1  # the repeat never reached Flask


def test_a_replay_gets_its_own_request_id_and_nosniff(make_app):
    app = make_app()
    client = app.test_client()
    path = PATH.format(GENERATED)
    client.get(path, headers={"X-API-Key": KEY})
    mine = client.get(path, headers={"X-API-Key": KEY, "X-Request-ID": "client-chose-this"})
    fresh = [client.get(path, headers={"X-API-Key": KEY}).headers["X-Request-ID"] for _ in range(2)]
    assert mine.headers["X-Request-ID"] == "client-chose-this"
    assert mine.headers["X-Content-Type-Options"] == "nosniff"
    assert fresh[0] != fresh[1] and all(len(rid) == 32 for rid in fresh)


@pytest.mark.parametrize(
    "headers, status, body",
    [
        ({"Prefer": "example=empty"}, 200, []),
        ({"Prefer": "code=503"}, 503, None),
        ({"Prefer": "dealy=100"}, 422, None),
        ({"X-API-Key": OTHER_KEY}, 401, None),
        ({"X-API-Key": "not-a-key"}, 401, None),
        # werkzeug's router refuses a websocket upgrade to the route: a replayed 200 would hide that.
        ({"Connection": "Upgrade", "Upgrade": "websocket"}, 400, None),
    ],
)
def test_never_replayed_for_prefer_or_another_key(make_app, headers, status, body):
    app = make_app({"api_keys": KEY})
    calls = requests_behind(app, "replay")
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
def test_errors_are_never_replayed(make_app, path, status):
    app = make_app()
    calls = requests_behind(app, "replay")
    client = app.test_client()
    for _ in range(3):
        assert client.get(path, headers={"X-API-Key": KEY}).status_code == status
    assert len(calls) == 3


def test_a_body_that_does_not_parse_is_still_refused_after_a_replay(make_app):
    app = make_app()
    client = app.test_client()
    path = PATH.format(GENERATED)
    for _ in range(2):
        assert client.get(path, headers={"X-API-Key": KEY}).status_code == 200
    response = client.get(path, headers={"X-API-Key": KEY}, data="{", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("config", [{"latency": "1"}, {"error_rate": "0.5"}])
def test_chaos_settings_turn_replays_off(make_app, config):
    app = make_app(config)
    calls = requests_behind(app, "replay")
    client = app.test_client()
    statuses = {client.get(PATH.format(GENERATED), headers={"X-API-Key": KEY, "X-Request-ID": f"r{i}"}).status_code
                for i in range(12)}
    assert len(calls) == 12
    if "error_rate" in config:
        assert statuses == {200, 500}


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


def test_a_fixture_reload_is_noticed_by_replays(make_app, write_fixture):
    directory = write_fixture("data.json", _fixture(5))
    app = make_app({"fixtures_dir": str(directory), "reload": "true"})
    app.extensions["reload"].interval = 0  # look at the files on every request
    client = app.test_client()
    path = PATH.format(GENERATED)
    assert [client.get(path, headers={"X-API-Key": KEY}).headers["X-Total-Count"] for _ in range(2)] == ["5", "5"]
    (directory / "data.json").write_text(json.dumps(_fixture(8)), encoding="utf-8")
    assert client.get(path, headers={"X-API-Key": KEY}).headers["X-Total-Count"] == "8"


def test_replays_stay_within_their_bound(make_app):
    app = make_app()
    replay = app.extensions["replay"]
    replay.answers.limit = 20_000
    client = app.test_client()
    for page in range(1, 40):
        client.get(PATH.format(GENERATED) + f"?page={page}&page_size=100", headers={"X-API-Key": KEY})
    assert 0 < replay.answers.weight <= 20_000


@pytest.mark.parametrize("cors_origins", ["*", "https://app.example.test"])
def test_each_origin_gets_the_cors_answer_of_the_full_path(make_app, make_flask_app, cors_origins):
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


def _mask_by_regex_only(text):
    from conversations_mock.web.safety import _HEX_SECRET, _NAMED_SECRET, MASK

    text = _NAMED_SECRET.sub(lambda match: match.group(1) + match.group(2) + MASK, text)
    return _HEX_SECRET.sub(MASK, text)


_WORDY = st.text(alphabet=st.sampled_from(list("keyKEYtokenTOKENsecretpasswordauthAUTH=:&; %3D_-?/\u017f\u212a\u0130a0")))


@settings(max_examples=300, derandomize=True)
@given(st.one_of(_WORDY, st.text(max_size=60), st.text(alphabet=st.characters(max_codepoint=127), max_size=60)))
def test_masking_skips_the_regex_only_where_it_would_change_nothing(text):
    from conversations_mock.web.safety import mask_secrets

    assert mask_secrets(text) == _mask_by_regex_only(text)


@pytest.mark.parametrize("text", ["/x?api_KEY=abc", "/x?\u017fecret=abc", "/x?\u212aey=abc", "/x?Password=hunter2"])
def test_masking_still_masks_odd_spellings(text):
    from conversations_mock.web.safety import mask_secrets

    assert mask_secrets(text).endswith("=***")


def _flask_cors_itself(app):
    """The app with flask-cors' own after_request function instead of its memoised answers."""
    functions = app.after_request_funcs[None]
    functions[:] = [getattr(function, "__wrapped__", function) for function in functions]
    app.extensions["replay"].enabled = False
    app.extensions["direct"].enabled = False
    return app


@pytest.mark.parametrize("cors_origins", ["*", "https://app.example.test,https://other.example.test"])
def test_memoised_cors_headers_are_flask_cors_own(make_app, cors_origins):
    plain = _flask_cors_itself(make_app({"cors_origins": cors_origins}))
    memoised = make_app({"cors_origins": cors_origins})
    requests = [
        (method, path, {**key, **origin})
        for method, path in [("GET", PATH.format(GENERATED)), ("HEAD", PATH.format(DOCUMENTED)),
                             ("GET", PATH.format("nope")), ("GET", "/nowhere"), ("POST", PATH.format(GENERATED))]
        for key in ({"X-API-Key": KEY}, {})
        for origin in ({}, {"Origin": "https://app.example.test"}, {"Origin": "https://evil.example.test"})
    ]
    requests.append(("OPTIONS", PATH.format(GENERATED),
                     {"Origin": "https://app.example.test", "Access-Control-Request-Method": "GET"}))
    for method, path, headers in requests * 2:
        assert answer(memoised, path, headers, method, key=None) == answer(plain, path, headers, method, key=None), (
            method, path, headers)


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
