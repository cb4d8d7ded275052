"""The pytest plugin: the conversations_mock fixture serves, records, loads data, reseeds and resets."""

import http.client
import json
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conversations_mock import FixtureError, create_app
from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, GENERATED_CHATBOT, REPO, sample_conversations

LOADED_CHATBOT = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"


def fetch(mock, chatbot_id, query="", **headers):
    """GET a chatbot's conversations from the mock: (status, headers, parsed body)."""
    request = urllib.request.Request(
        mock.conversations_url(chatbot_id) + query, headers={"X-API-Key": mock.api_key, **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def generated_by(config, chatbot_id, query=""):
    """What an app built with `config` answers for a chatbot, for comparison."""
    client = create_app(config, environ={}).test_client()
    return client.get(f"/chatbots/{chatbot_id}/conversations{query}", headers={"X-API-Key": API_KEY}).json


def test_serves_the_documented_chatbot_at_its_url(conversations_mock, documented_example):
    assert conversations_mock.url.startswith("http://127.0.0.1:")
    assert conversations_mock.api_key == API_KEY
    status, _, body = fetch(conversations_mock, DOCUMENTED_CHATBOT)
    assert (status, body) == (200, documented_example)


def test_journal_records_each_request_with_its_status_newest_first(conversations_mock):
    fetch(conversations_mock, GENERATED_CHATBOT, "?page=2&page_size=5", Prefer="code=503")
    fetch(conversations_mock, GENERATED_CHATBOT, "?page=0")
    newer, older = conversations_mock.journal
    assert (older.method, older.path, older.query, older.status, older.namespace) == (
        "GET", f"/chatbots/{GENERATED_CHATBOT}/conversations", {"page": "2", "page_size": "5"}, 503, "default"
    )
    assert older.headers["prefer"] == "code=503"
    assert older.headers["X-API-Key"] == "***" and older.sent("x-api-key", API_KEY)
    assert (newer.query, newer.status) == ({"page": "0"}, 422)
    assert conversations_mock.requests() == conversations_mock.journal


FIXTURE = {"chatbots": [{"id": LOADED_CHATBOT, "generated": {"count": 3}}]}


@pytest.mark.parametrize("form", ["dict", "file", "directory"])
def test_load_fixture_adds_chatbots_for_this_test(conversations_mock, tmp_path, form):
    (tmp_path / "bots.json").write_text(json.dumps(FIXTURE), encoding="utf-8")
    forms = {"dict": FIXTURE, "file": tmp_path / "bots.json", "directory": str(tmp_path)}
    conversations_mock.load_fixture(forms[form])
    status, headers, body = fetch(conversations_mock, LOADED_CHATBOT)
    assert (status, headers["X-Total-Count"], len(body)) == (200, "3", 3)


def test_a_later_load_replaces_a_chatbot(conversations_mock):
    conversations_mock.load_fixture(FIXTURE)
    conversations_mock.load_fixture({"chatbots": [{"id": LOADED_CHATBOT, "generated": {"count": 5}}]})
    assert fetch(conversations_mock, LOADED_CHATBOT)[1]["X-Total-Count"] == "5"


@pytest.mark.parametrize(
    "fixture, error, message",
    [
        ({"chatbots": [{"id": "nope", "generated": {"count": 3}}]}, FixtureError, "chatbots[0].id: Not a"),
        ("/no/such/fixture.json", FixtureError, "/no/such/fixture.json: no fixture file or directory there."),
        (42, TypeError, "load_fixture takes a dict or the path of a file or directory, not int."),
    ],
)
def test_a_bad_fixture_is_refused_and_the_data_kept(conversations_mock, fixture, error, message):
    conversations_mock.load_fixture(FIXTURE)
    with pytest.raises(error) as raised:
        conversations_mock.load_fixture(fixture)
    assert message in str(raised.value)
    assert fetch(conversations_mock, LOADED_CHATBOT)[1]["X-Total-Count"] == "3"


@pytest.mark.parametrize("how", ["attribute", "method"])
def test_seed_changes_the_generated_data_for_this_test(conversations_mock, how):
    if how == "attribute":
        conversations_mock.seed = 7
    else:
        conversations_mock.set_seed(7)
    assert conversations_mock.seed == 7
    expected = generated_by({"seed": 7}, GENERATED_CHATBOT, "?page=2")
    assert fetch(conversations_mock, GENERATED_CHATBOT, "?page=2")[2] == expected


@pytest.mark.parametrize("seed", [-1, 2**63, "7", 1.5, True])
def test_a_bad_seed_is_refused(conversations_mock, seed):
    with pytest.raises(ValueError, match="The seed must be a whole number from 0 to 9223372036854775807"):
        conversations_mock.seed = seed
    assert conversations_mock.seed == 20250307


def test_prefer_scenarios_work_through_the_fixture(conversations_mock):
    status, headers, body = fetch(conversations_mock, GENERATED_CHATBOT, Prefer="example=empty")
    assert (status, headers["Preference-Applied"], body) == (200, "example=empty", [])


def _run_pytest(tmp_path, files, **env):
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, env={**env, "PATH": "/usr/bin:/bin"},
    )


SESSION_TESTS = """
    import json, threading, urllib.request

    CHATBOT = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"
    seen = {}

    def get(mock, chatbot_id):
        headers = {"X-API-Key": mock.api_key}
        request = urllib.request.Request(mock.conversations_url(chatbot_id), headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["X-Total-Count"], json.loads(response.read())

    def test_nothing_runs_until_a_test_asks():
        assert [t for t in threading.enumerate() if t.name == "conversations-mock"] == []

    def test_first(conversations_mock):
        seen["url"] = conversations_mock.url
        seen["default"] = get(conversations_mock, CHATBOT)
        conversations_mock.seed = 7
        conversations_mock.load_fixture({"chatbots": [{"id": CHATBOT, "generated": {"count": 2}}]})
        assert get(conversations_mock, CHATBOT)[0] == "2"
        assert len(conversations_mock.journal) == 2

    def test_second_gets_the_same_server_reset(conversations_mock):
        assert conversations_mock.url == seen["url"]
        assert conversations_mock.journal == []
        assert conversations_mock.seed == 20250307
        assert get(conversations_mock, CHATBOT) == seen["default"]
"""


def test_one_server_per_session_reset_between_tests_and_deaf_to_the_environment(tmp_path):
    # MOCK_* variables of the machine must not reach the plugin's server (these would fail every request).
    result = _run_pytest(tmp_path, {"test_session.py": SESSION_TESTS}, MOCK_ERROR_RATE="1", MOCK_SEED="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_settings_fixture_configures_the_session_server(tmp_path):
    key = "0123456789abcdef" * 3
    files = {
        "conftest.py": f"""
            import pytest

            @pytest.fixture(scope="session")
            def conversations_mock_settings():
                return {{"base_path": "/v1", "api_keys": "{key}"}}
        """,
        "test_settings.py": f"""
            def test_settings(conversations_mock):
                assert conversations_mock.url.endswith("/v1")
                assert conversations_mock.api_key == "{key}"
        """,
    }
    result = _run_pytest(tmp_path, files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_several_prefer_headers_reach_the_mock_over_http(conversations_mock):
    host, port = conversations_mock.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("GET", f"/chatbots/{GENERATED_CHATBOT}/conversations")
    for name, value in [("X-API-Key", API_KEY), ("Prefer", "code=503"), ("Prefer", "delay=10")]:
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    assert (response.status, response.headers["Preference-Applied"]) == (503, "delay=10, code=503")


def test_loading_the_plugin_does_not_import_the_app():
    """Every pytest run of a project that installs us loads the plugin: it must stay cheap."""
    probe = "import sys, conversations_mock.pytest_plugin; print(sorted({'flask', 'marshmallow', 'faker'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["create_app", "build_catalogue", "ConfigError", "FixtureError"])
def test_the_package_still_offers_its_names(name):
    import conversations_mock as app

    assert getattr(app, name).__name__ == name


def test_the_package_names_only_what_it_has():
    import conversations_mock as app

    with pytest.raises(AttributeError, match="no attribute 'bogus'"):
        app.bogus  # noqa: B018


def test_the_plugins_own_constants_equal_the_apps():
    # The plugin keeps copies so that loading it imports no marshmallow; they must not drift.
    from conversations_mock import pytest_plugin
    from conversations_mock.data.fixtures import DOCUMENTED_KEY
    from conversations_mock.schemas.request import MAX_SEED

    assert (pytest_plugin.DOCUMENTED_API_KEY, pytest_plugin.MAX_SEED) == (DOCUMENTED_KEY, MAX_SEED)


def call(mock, method, path, headers=None, body=None):
    """A request to the mock's server (not under the base path): (status, the body's bytes)."""
    url = mock._server.base_url + path
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def http_journal(mock, namespace):
    """GET /__mock/requests of a namespace: the entries as the HTTP journal lists them."""
    status, body = call(mock, "GET", f"/__mock/requests?namespace={namespace}")
    assert status == 200, body
    return json.loads(body)


def as_listed(entry) -> dict:
    """A plugin JournalEntry as GET /__mock/requests would list it."""
    fields = ("time", "method", "path", "query", "target", "status", "request_id", "namespace", "worker",
              "fault", "received", "retry_after", "problem", "applied")
    return {**{name: getattr(entry, name) for name in fields}, "headers": dict(entry.headers)}


# The Redis one is `live` (it starts redis-server) though it asks for redis_url only once it runs.
@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.live)])
def mock_on(request):
    """A ConversationsMock on each kind of store: the session's (embedded), or one of its own on Redis."""
    from conversations_mock.pytest_plugin import ConversationsMock, ConversationsMockServer

    if request.param == "embedded":
        yield request.getfixturevalue("conversations_mock")
        return
    server = ConversationsMockServer({"store": request.getfixturevalue("redis_url")})
    try:
        mock = ConversationsMock(server)
        mock.reset()
        yield mock
    finally:
        server.stop()


SECRET_TOKEN = "Bearer s3cret-token"


def some_traffic(mock):
    """Requests of every kind: API requests in three namespaces, a control request, a health probe."""
    listing = f"/chatbots/{GENERATED_CHATBOT}/conversations"
    call(mock, "GET", listing + "?page=2", {"X-API-Key": API_KEY, "Authorization": SECRET_TOKEN})
    call(mock, "GET", listing, {"X-API-Key": "wrong", "X-Mock-Namespace": "team-b"})
    call(mock, "GET", f"/__mock/ns/team-c{listing}?page_size=3", {"X-API-Key": API_KEY})
    call(mock, "PUT", f"/__mock{listing}", {"Content-Type": "application/json", "X-Mock-Namespace": "team-b"},
         json.dumps(sample_conversations(GENERATED_CHATBOT, 2)).encode())
    call(mock, "GET", "/healthz")
    call(mock, "GET", listing, {"X-API-Key": API_KEY, "X-Mock-Namespace": "team-b"})


def test_the_plugins_journal_is_the_http_journal(mock_on):
    some_traffic(mock_on)
    for namespace, statuses in [("default", [200]), ("team-b", [200, 401]), ("team-c", [200])]:
        listed = http_journal(mock_on, namespace)
        assert [as_listed(entry) for entry in mock_on.requests(namespace)] == listed
        assert [entry["status"] for entry in listed] == statuses  # newest first, no control or health request
        assert {entry["namespace"] for entry in listed} == {namespace}
        assert {entry["path"] for entry in listed} == {f"/chatbots/{GENERATED_CHATBOT}/conversations"}
    [entry] = mock_on.journal
    assert (entry.query, entry.headers["Authorization"], entry.headers["X-API-Key"]) == (
        {"page": "2"}, "Bearer ***", "***"
    )


def test_a_test_checks_the_secret_its_client_sent_which_http_never_shows(mock_on):
    from conversations_mock.web.journal import JOURNAL

    some_traffic(mock_on)
    [entry] = mock_on.requests()
    assert entry.sent("X-API-Key", API_KEY) and entry.sent("Authorization", SECRET_TOKEN)
    assert not entry.sent("X-API-Key", API_KEY[:-1]) and not entry.sent("Authorization", "Bearer other")
    assert not mock_on.requests("team-b")[-1].sent("X-API-Key", API_KEY)  # it sent "wrong"
    assert mock_on.requests("team-b")[-1].sent("X-API-Key", "wrong")
    digest = mock_on._server.app.extensions[JOURNAL].digest(API_KEY)
    for namespace in ("default", "team-b", "team-c"):
        text = call(mock_on, "GET", f"/__mock/requests?namespace={namespace}")[1].decode()
        assert API_KEY not in text and "s3cret-token" not in text and digest not in text
    store = mock_on._server.app.extensions["store"]
    if hasattr(store, "directory"):  # the embedded store's files hold no secret either
        kept = b"".join(path.read_bytes() for path in Path(store.directory, "journal").iterdir())
        assert API_KEY.encode() not in kept and b"s3cret-token" not in kept


@pytest.mark.parametrize(
    "namespace, turn",
    [("default", "sets"), ("default", "finds it gone"), ("team-b", "sets"), ("team-b", "finds it gone")],
)
def test_a_namespaces_data_and_journal_are_gone_in_the_next_test(conversations_mock, turn, namespace):
    listing = f"/chatbots/{GENERATED_CHATBOT}/conversations"
    headers = {"X-API-Key": API_KEY, "X-Mock-Namespace": namespace}
    if turn == "sets":
        body = json.dumps(sample_conversations(GENERATED_CHATBOT, 2)).encode()
        headers_put = {**headers, "Content-Type": "application/json"}
        assert call(conversations_mock, "PUT", f"/__mock{listing}", headers_put, body)[0] == 204
    status, body = call(conversations_mock, "GET", listing, headers)
    assert (status, len(json.loads(body))) == (200, 2 if turn == "sets" else 10)
    assert len(conversations_mock.requests(namespace)) == 1


@pytest.mark.parametrize("turn", ["sets", "finds them gone"])
def test_a_namespaces_fault_rules_are_gone_in_the_next_test(conversations_mock, turn):
    listing = f"/__mock/ns/team-f/chatbots/{GENERATED_CHATBOT}/conversations"
    if turn == "sets":
        rules = json.dumps([{"answer": {"code": 503}}]).encode()
        put = call(conversations_mock, "PUT", "/__mock/ns/team-f/__mock/faults", {"Content-Type": "application/json"},
                   rules)
        assert put[0] == 204
    assert call(conversations_mock, "GET", listing, {"X-API-Key": API_KEY})[0] == (503 if turn == "sets" else 200)


@pytest.mark.parametrize("namespace", ["", "a b", "x" * 65, None])
def test_a_namespace_no_request_can_name_is_refused(conversations_mock, namespace):
    with pytest.raises(ValueError, match=r"No request can name the namespace .*: Must be 1 to 64 letters"):
        conversations_mock.requests(namespace)


def test_reset_forgets_every_namespace(mock_on):
    some_traffic(mock_on)
    listing = f"/chatbots/{GENERATED_CHATBOT}/conversations"
    set_in_b = call(mock_on, "GET", listing, {"X-API-Key": API_KEY, "X-Mock-Namespace": "team-b"})[1]
    assert len(json.loads(set_in_b)) == 2
    mock_on.reset()
    for namespace in ("default", "team-b", "team-c"):
        assert mock_on.requests(namespace) == [] and http_journal(mock_on, namespace) == []
        status, body = call(mock_on, "GET", listing, {"X-API-Key": API_KEY, "X-Mock-Namespace": namespace})
        assert (status, len(json.loads(body))) == (200, 10)


def naive_loop(mock, namespace, times=4):
    """A client retrying a 503 at once, `times` attempts, ignoring its Retry-After."""
    headers = {"X-API-Key": API_KEY, "X-Mock-Namespace": namespace, "Prefer": "code=503, retry-after=3"}
    for _ in range(times):
        call(mock, "GET", f"/chatbots/{GENERATED_CHATBOT}/conversations", headers)


def test_the_plugins_verdicts_are_the_http_verdicts(mock_on):
    naive_loop(mock_on, "team-v")
    for _ in range(4):
        call(mock_on, "GET", f"/chatbots/{GENERATED_CHATBOT}/conversations", {"X-API-Key": "revoked"})
    status, body = call(mock_on, "GET", "/__mock/verdicts?namespace=team-v")
    assert status == 200 and mock_on.verdicts("team-v") == json.loads(body)
    assert [verdict["kind"] for verdict in mock_on.verdicts("team-v")] == ["retry-before-retry-after"]
    assert [verdict["kind"] for verdict in mock_on.verdicts()] == ["ignored-auth-error"]
    mock_on.reset()
    assert mock_on.verdicts("team-v") == mock_on.verdicts() == []


def test_assert_well_behaved_passes_for_a_client_that_behaves(conversations_mock):
    fetch(conversations_mock, GENERATED_CHATBOT)
    fetch(conversations_mock, GENERATED_CHATBOT, "?page=2")
    conversations_mock.assert_well_behaved()


def test_assert_well_behaved_fails_the_test_with_each_verdict_one_per_line(conversations_mock):
    naive_loop(conversations_mock, "team-w")
    conversations_mock.assert_well_behaved()  # the default namespace saw nothing
    with pytest.raises(AssertionError) as failed:
        conversations_mock.assert_well_behaved("team-w")
    [verdict] = conversations_mock.verdicts("team-w")
    assert str(failed.value) == (
        "The client did not behave in namespace 'team-w' (1 verdict(s), as GET /__mock/verdicts lists "
        "them):\n"
        f"- retry-before-retry-after: {verdict['detail']} Requests: {', '.join(verdict['request_ids'])}."
    )
    with pytest.raises(ValueError, match="No request can name the namespace"):
        conversations_mock.verdicts("a b")


def test_a_client_projects_test_fails_with_the_verdicts(tmp_path):
    result = _run_pytest(tmp_path, {"test_client.py": """
        import urllib.error, urllib.request

        def test_retries(conversations_mock):
            url = conversations_mock.conversations_url("0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11")
            for _ in range(3):
                request = urllib.request.Request(url, headers={"X-API-Key": conversations_mock.api_key,
                                                               "Prefer": "code=429"})
                try:
                    urllib.request.urlopen(request, timeout=10)
                except urllib.error.HTTPError as error:
                    error.close()
            conversations_mock.assert_well_behaved()
    """})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "AssertionError: The client did not behave in namespace 'default'" in result.stdout
    assert "- retry-before-retry-after: 2 request(s) with one API key" in result.stdout
    assert "- retry-without-backoff" not in result.stdout  # each 429 carried Retry-After
