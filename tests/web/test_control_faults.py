"""The control API's fault rules (PUT, GET, DELETE /__mock/faults): round trips, refusals, namespaces, reset."""

import pytest

from conversations_mock.store import StoreUnavailable

FAULTS = "/__mock/faults"
SEQUENCE = [{"times": 2, "answer": {"code": 503, "retry_after": 1}}]
RULES = [
    *SEQUENCE,
    {"match": {"chatbot_id": "0B7C4C8E3F574C2A9F0E5D7F1C2A9B11", "page": 2}, "rate": 0.5,
     "answer": {"fault": "connection-reset"}},
    {"answer": {"delay": 1500}},
]
SHOWN = [
    {**SEQUENCE[0], "times_left": 2},
    {"match": {"chatbot_id": "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11", "page": 2}, "rate": 0.5,
     "answer": {"fault": "connection-reset"}},
    {"answer": {"delay": 1500}},
]


def test_put_then_get_shows_the_rules_in_order_with_what_is_left(client):
    assert client.get(FAULTS).json == []
    put = client.put(FAULTS, json=RULES)
    assert (put.status_code, put.data) == (204, b"")
    shown = client.get(FAULTS)
    assert (shown.status_code, shown.content_type, shown.json) == (200, "application/json", SHOWN)


def test_a_put_replaces_the_rules_and_their_counts(client):
    client.put(FAULTS, json=RULES)
    client.put(FAULTS, json=[{"times": 5, "answer": {"code": 500}}])
    assert client.get(FAULTS).json == [{"times": 5, "answer": {"code": 500}, "times_left": 5}]
    assert client.put(FAULTS, json=[]).status_code == 204
    assert client.get(FAULTS).json == []


@pytest.mark.parametrize("forget", ["delete", "reset"])
def test_delete_and_reset_remove_the_rules(client, forget):
    client.put(FAULTS, json=RULES)
    gone = client.delete(FAULTS) if forget == "delete" else client.post("/__mock/reset")
    assert gone.status_code == 204
    assert client.get(FAULTS).json == []
    assert client.delete(FAULTS).status_code == 204  # deleting nothing is done too


@pytest.mark.parametrize("body, field, message", [
    ([{"answer": {"fault": "timeout"}}], "[0].answer.fault", "Must be one of: connection-reset"),
    ([{"answer": {"code": 503}}, {"times": 0, "answer": {"code": 503}}], "[1].times", "from 1"),
    ([{"answer": {}}], "[0].answer", "Give one of code, fault, delay or dribble."),
    ([{"match": {"page": "2"}, "answer": {"code": 503}}], "[0].match.page", "Not a whole number"),
    ({"rules": []}, "body", "Must be a JSON array of rules."),
])
def test_a_refused_rule_is_422_naming_it_by_index_and_the_rules_in_force_stay(client, body, field, message):
    client.put(FAULTS, json=SEQUENCE)
    refused = client.put(FAULTS, json=body)
    assert (refused.status_code, refused.content_type) == (422, "application/problem+json")
    assert "the rules in force stay" in refused.json["detail"]
    assert list(refused.json["errors"]) == [field] and message in refused.json["errors"][field][0]
    assert client.get(FAULTS).json == [{**SEQUENCE[0], "times_left": 2}]


@pytest.mark.parametrize("body, message", [(b"", "The body is empty"), (b"[{", "does not parse as JSON")])
def test_a_body_that_is_not_json_is_400(client, body, message):
    refused = client.put(FAULTS, data=body, content_type="application/json")
    assert refused.status_code == 400 and message in refused.json["detail"]


def test_each_namespace_has_its_own_rules_by_header_or_prefix(client):
    client.put(FAULTS, json=SEQUENCE, headers={"X-Mock-Namespace": "team-a"})
    assert client.get("/__mock/ns/team-a" + FAULTS).json == [{**SEQUENCE[0], "times_left": 2}]
    assert client.get(FAULTS).json == []
    assert client.get(FAULTS, headers={"X-Mock-Namespace": "team-b"}).json == []
    client.post("/__mock/ns/team-b/__mock/reset")
    assert client.get(FAULTS, headers={"X-Mock-Namespace": "team-a"}).json != []


def test_the_admin_token_guards_the_rules(make_app):
    client = make_app({"admin_token": "s3cret-admin-token-0123456789"}).test_client()
    assert client.put(FAULTS, json=SEQUENCE).status_code == 401
    assert client.get(FAULTS).status_code == 401
    authorised = {"Authorization": "Bearer s3cret-admin-token-0123456789"}
    assert client.put(FAULTS, json=SEQUENCE, headers=authorised).status_code == 204


def test_a_store_that_cannot_be_reached_is_503(app, monkeypatch):
    def unreachable(*args):
        raise StoreUnavailable("cannot reach the store at redis://127.0.0.1:1/0")

    monkeypatch.setattr(app.extensions["store"], "put_faults", unreachable)
    answered = app.test_client().put(FAULTS, json=SEQUENCE)
    assert answered.status_code == 503 and "cannot reach the store" in answered.json["detail"]
