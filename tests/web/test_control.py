"""The control API (/__mock): set a chatbot's conversations, read, forget, reset; and its refusals."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock import ConfigError, create_app
from conversations_mock.store import StoreUnavailable
from tests.helpers import (
    API_KEY,
    DOCUMENTED_CHATBOT,
    GENERATED_CHATBOT,
    api_get,
    requests_behind,
    sample_conversations,
)
from tests.helpers import GENERATED_CONTROL as CONTROL
from tests.helpers import GENERATED_LISTING as LISTING

TOKEN = "s3cret-admin-token-0123456789"


def ids(response):
    return [conversation["id"] for conversation in response.json]


def test_a_chatbot_answers_exactly_what_was_put_newest_first_paged_and_filtered(any_app):
    client = any_app.test_client()
    conversations = sample_conversations(GENERATED_CHATBOT, 7)
    assert client.put(CONTROL, json=conversations).status_code == 204
    newest_first = [c["id"] for c in reversed(conversations)]
    for _ in range(2):  # the second time, the fast path answers what the view taught it
        page = api_get(client, LISTING + "?page=2&page_size=3")
        assert (page.status_code, ids(page)) == (200, newest_first[3:6])
        assert page.headers["X-Total-Count"] == "7"
        assert 'page=3&page_size=3>; rel="last"' in page.headers["Link"]
    resolved = api_get(client, LISTING + "?state=resolved&page_size=100")
    assert ids(resolved) == [c["id"] for c in reversed(conversations) if c["state"] == "resolved"]
    assert resolved.headers["X-Total-Count"] == "2"


@pytest.mark.parametrize("prefer", ["seed=7", "clock=2026-06-01T12:00:00Z", "seed=7, clock=2030-01-01T00:00:00Z"])
def test_a_seed_or_clock_preference_leaves_a_set_chatbot_as_set(client, prefer):
    # What was set is a list: no seed or instant changes it, and neither is echoed as applied.
    conversations = sample_conversations(GENERATED_CHATBOT, 4)
    assert client.put(CONTROL, json=conversations).status_code == 204
    page = api_get(client, Prefer=prefer)
    assert (page.status_code, ids(page)) == (200, [c["id"] for c in reversed(conversations)])
    assert "Preference-Applied" not in page.headers
    assert ids(api_get(client, f"/chatbots/{DOCUMENTED_CHATBOT}/conversations", Prefer=prefer))  # the others still


def test_get_shows_what_is_set_and_404_when_nothing_is(client):
    missing = client.get(CONTROL)
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"
    assert GENERATED_CHATBOT in missing.json["detail"] and "'default'" in missing.json["detail"]
    conversations = sample_conversations(GENERATED_CHATBOT, 2)
    client.put(CONTROL, json=conversations)
    shown = client.get(CONTROL)
    assert shown.status_code == 200 and shown.json == api_get(client).json
    assert [c["id"] for c in shown.json] == [c["id"] for c in reversed(conversations)]


@pytest.mark.parametrize("chatbot", [GENERATED_CHATBOT, DOCUMENTED_CHATBOT])
def test_delete_returns_the_chatbot_to_its_fixture_or_generated_data(any_app, chatbot):
    client = any_app.test_client()
    listing = f"/chatbots/{chatbot}/conversations"
    before = api_get(client, listing)
    client.put(f"/__mock{listing}", json=sample_conversations(chatbot, 1))
    assert len(api_get(client, listing).json) == 1
    assert client.delete(f"/__mock{listing}").status_code == 204
    assert api_get(client, listing).data == before.data
    assert client.delete(f"/__mock{listing}").status_code == 204  # nothing set: still done


@pytest.mark.parametrize("write", ["put", "delete", "reset"])
def test_the_fast_path_never_answers_what_a_write_replaced(make_app, write):
    app = make_app()
    behind = requests_behind(app, "fast")
    client = app.test_client()
    client.put(CONTROL, json=sample_conversations(GENERATED_CHATBOT, 2))
    api_get(client)
    api_get(client)
    assert behind.count(LISTING) == 1  # the second answer came from the fast path
    {
        "put": lambda: client.put(CONTROL, json=sample_conversations(GENERATED_CHATBOT, 5)),
        "delete": lambda: client.delete(CONTROL),
        "reset": lambda: client.post("/__mock/reset"),
    }[write]()
    after = api_get(client)
    assert len(after.json) == (5 if write == "put" else 10)
    assert behind.count(LISTING) == 1  # and the fast path answered it, from the new data


def test_a_chatbot_id_in_any_spelling_sets_the_canonical_one(client):
    client.put(
        CONTROL.upper()
        .replace("__MOCK", "__mock")
        .replace("CHATBOTS", "chatbots")
        .replace("CONVERSATIONS", "conversations"),
        json=sample_conversations(GENERATED_CHATBOT, 1),
    )
    assert len(api_get(client).json) == 1


BAD_ITEMS = [
    ("platform", lambda c: {**c, "platform": "fax"}, "[1].platform"),
    ("missing field", lambda c: {k: v for k, v in c.items() if k != "state"}, "[1].state"),
    ("unknown field", lambda c: {**c, "colour": "red"}, "[1].colour"),
    ("other chatbot", lambda c: {**c, "chatbot_id": DOCUMENTED_CHATBOT}, "[1].chatbot_id"),
    ("repeated id", lambda c: {**c, "id": "00000000-0000-4000-0000-000000000000"}, "[1].id"),
    ("bad timestamp", lambda c: {**c, "created_at": "yesterday"}, "[1].created_at"),
    ("not an object", lambda c: 42, "[1]"),
]


@pytest.mark.parametrize("fault, spoil, key", BAD_ITEMS, ids=[fault for fault, _, _ in BAD_ITEMS])
def test_a_conversation_that_breaks_the_schema_is_422_naming_item_and_field_and_changes_nothing(
    client, fault, spoil, key
):
    kept = sample_conversations(GENERATED_CHATBOT, 1)
    client.put(CONTROL, json=kept)
    body = sample_conversations(GENERATED_CHATBOT, 3)
    body[1] = spoil(body[1])
    response = client.put(CONTROL, json=body)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert list(response.json["errors"]) == [key]
    assert "nothing was changed" in response.json["detail"]
    assert [c["id"] for c in client.get(CONTROL).json] == [kept[0]["id"]]


@pytest.mark.parametrize(
    "body, status, words",
    [
        (b"[{", 400, "does not parse as JSON"),
        (b"", 400, "The body is empty"),
        (b"\xff\xfe", 400, "does not parse as JSON"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "does not parse as JSON"),
        (b'{"conversations": []}', 422, "must be a JSON array"),
        (b'"text"', 422, "must be a JSON array"),
    ],
)
def test_a_body_that_is_no_array_of_conversations_is_refused(client, body, status, words):
    response = client.put(CONTROL, data=body, content_type="application/json")
    assert response.status_code == status and words in response.json["detail"]


def test_an_empty_array_makes_a_chatbot_with_no_conversations(client):
    assert client.put(CONTROL, json=[]).status_code == 204
    response = api_get(client)
    assert (response.json, response.headers["X-Total-Count"]) == ([], "0")


def test_a_body_past_max_body_is_413(make_app):
    client = make_app({"max_body": 1000}).test_client()
    response = client.put(CONTROL, json=sample_conversations(GENERATED_CHATBOT, 5))
    assert response.status_code == 413 and "1000 bytes" in response.json["detail"]


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("POST", CONTROL, {"GET", "PUT", "DELETE"}),
        ("PATCH", "/__mock/requests", {"GET", "DELETE"}),
        ("GET", "/__mock/reset", {"POST"}),
    ],
)
def test_a_wrong_method_is_405_with_allow(client, method, path, allowed):
    response = client.open(path, method=method)
    assert response.status_code == 405 and response.content_type == "application/problem+json"
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_bad_chatbot_id_is_422(client):
    response = client.put("/__mock/chatbots/not-a-uuid/conversations", json=[])
    assert response.status_code == 422 and list(response.json["errors"]) == ["chatbot_id"]


def test_an_unknown_control_path_is_404(client):
    assert client.get("/__mock/nothing").status_code == 404


def test_control_requests_need_no_api_key_and_api_requests_still_do(client):
    assert client.put(CONTROL, json=[]).status_code == 204
    assert client.get(LISTING).status_code == 401


@pytest.mark.parametrize(
    "authorization, status",
    [
        (None, 401),
        ("Bearer wrong-token-0123456789", 401),
        (f"Basic {TOKEN}", 401),
        (f"Bearer {TOKEN}", 204),
        (f"bearer {TOKEN}", 204),
    ],
)
def test_with_an_admin_token_the_control_api_requires_it(make_app, authorization, status):
    client = make_app({"admin_token": TOKEN}).test_client()
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post("/__mock/reset", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
        assert "Authorization: Bearer" in response.json["detail"] and TOKEN not in response.data.decode()
    assert api_get(client).status_code == 200  # the API needs no token


def test_without_a_token_only_this_machine_may_use_the_control_api(client):
    response = client.post("/__mock/reset", environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 403 and "--admin-token" in response.json["detail"]
    assert client.post("/__mock/reset", environ_overrides={"REMOTE_ADDR": "::1"}).status_code == 204


@pytest.mark.parametrize("value, words", [("short", "16 to 256"), ("has space in it 0123456", "16 to 256")])
def test_a_bad_admin_token_stops_startup(value, words):
    with pytest.raises(ConfigError, match=words) as caught:
        create_app({"admin_token": value}, environ={})
    assert str(caught.value).startswith("Setting admin_token (--admin-token / MOCK_ADMIN_TOKEN):")
    assert value not in str(caught.value)


@pytest.mark.parametrize("base_path", ["/__mock", "/__mock/v1"])
def test_the_base_path_may_not_take_the_control_apis_place(base_path):
    with pytest.raises(ConfigError, match="control API"):
        create_app({"base_path": base_path}, environ={})


@pytest.mark.parametrize("location", ["memcached://x", "redis:/no-host", "embeded", "redis://host/0 1"])
def test_a_store_setting_naming_no_store_stops_startup(location):
    with pytest.raises(ConfigError) as caught:
        create_app({"store": location}, environ={})
    message = str(caught.value)
    assert message.startswith("Setting store (--store / MOCK_STORE)") and "redis://" in message


def test_a_redis_store_that_cannot_be_reached_answers_503_naming_it(caplog):
    app = create_app({"store": "redis://127.0.0.1:1/0"}, environ={})  # nothing listens on port 1
    client = app.test_client()
    for response in (client.get(f"/chatbots/{GENERATED_CHATBOT}/conversations", headers={"X-API-Key": API_KEY}),
                     client.get("/__mock/requests")):
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert "redis://127.0.0.1:1/0" in response.get_json()["detail"]


class FlakyStore:
    """The app's store, unreachable while `down` is set."""

    def __init__(self, store):
        self.store, self.down = store, False

    def __getattr__(self, name):
        method = getattr(self.store, name)

        def call(*args, **kwargs):
            if self.down and name != "generation":
                raise StoreUnavailable("redis://127.0.0.1:6390/0")
            return method(*args, **kwargs)

        return call


@pytest.fixture
def flaky(any_app):
    """(client, FlakyStore) of an app whose store can be taken down and brought back."""
    flaky = FlakyStore(any_app.extensions["store"])
    any_app.extensions["store"] = any_app.extensions["stored"].store = any_app.extensions["layers"][
        "namespaces"
    ].store = flaky
    return any_app.test_client(), flaky


@pytest.mark.parametrize(
    "request_",
    [
        lambda c: api_get(c, LISTING, **{"X-Mock-Namespace": "new"}),
        lambda c: c.put(CONTROL, json=[]),
        lambda c: c.get(CONTROL),
        lambda c: c.get("/__mock/requests"),
        lambda c: c.post("/__mock/reset"),
    ],
    ids=["api", "put", "get", "journal", "reset"],
)
def test_an_unreachable_store_is_503_naming_it_and_recovers_by_itself(flaky, request_):
    client, store = flaky
    store.down = True
    response = request_(client)
    assert response.status_code == 503 and response.content_type == "application/problem+json"
    assert "redis://127.0.0.1:6390/0" in response.json["detail"] and response.headers["Retry-After"] == "1"
    store.down = False
    assert request_(client).status_code in (200, 204, 404)


def test_a_stored_chatbot_is_never_answered_without_its_data_while_the_store_is_down(flaky):
    client, store = flaky
    client.put(CONTROL, json=sample_conversations(GENERATED_CHATBOT, 2), headers={"X-Mock-Namespace": "a"})
    store.down = True
    store.store.put_chatbot(
        "a", GENERATED_CHATBOT, json.dumps(sample_conversations(GENERATED_CHATBOT, 1)).encode()
    )
    assert api_get(client, **{"X-Mock-Namespace": "a"}).status_code == 503


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
APP = create_app({}, environ={})


@given(body=st.lists(JSON_VALUES | st.fixed_dictionaries({}, optional={"id": st.uuids().map(str)}), max_size=4))
@settings(max_examples=150, derandomize=True, deadline=None)
def test_any_json_body_is_a_204_or_a_problem_never_a_500(body):
    response = APP.test_client().put(CONTROL, json=body)
    assert response.status_code in (204, 422), response.data
    if response.status_code == 422:
        assert response.content_type == "application/problem+json" and response.json["errors"]
