"""Namespaces (X-Mock-Namespace or a /__mock/ns/{namespace} prefix) and the journal of requests received."""

import time

import pytest

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


def journal(client, query="", namespace=None):
    response = client.get(
        "/__mock/requests" + query, headers={"X-Mock-Namespace": namespace} if namespace else {}
    )
    assert response.status_code == 200, response.json
    return response.json


def test_namespaces_never_see_each_others_data(any_client):
    generated = api_get(any_client).data
    any_client.put(
        CONTROL, json=sample_conversations(GENERATED_CHATBOT, 2), headers={"X-Mock-Namespace": "team-a"}
    )
    for _ in range(2):  # the fast path too, once taught
        assert len(api_get(any_client, namespace="team-a").json) == 2
        assert api_get(any_client, namespace="team-b").data == generated
        assert api_get(any_client).data == generated


def test_the_path_prefix_is_the_same_namespace_as_the_header(any_client):
    any_client.put(
        CONTROL, json=sample_conversations(GENERATED_CHATBOT, 12), headers={"X-Mock-Namespace": "ci.job_7"}
    )
    by_header = api_get(any_client, namespace="ci.job_7")
    by_path = api_get(any_client, f"/__mock/ns/ci.job_7{LISTING}?page=2")
    assert by_header.json[:2] != by_path.json[:2] and len(by_path.json) == 2
    assert by_path.headers["X-Total-Count"] == "12"
    # The Link header keeps the prefix: a client following it stays in its namespace.
    assert (
        f'<http://localhost/__mock/ns/ci.job_7{LISTING}?page=1&page_size=10>; rel="first"'
        in by_path.headers["Link"]
    )


def test_the_prefix_works_for_the_control_api_and_under_a_base_path(make_app):
    client = make_app({"base_path": "/v1"}).test_client()
    assert (
        client.put(f"/__mock/ns/a{CONTROL}", json=sample_conversations(GENERATED_CHATBOT, 1)).status_code
        == 204
    )
    assert len(api_get(client, f"/__mock/ns/a/v1{LISTING}").json) == 1
    assert len(api_get(client, f"/v1{LISTING}").json) == 10


@pytest.mark.parametrize(
    "path, headers, field",
    [
        (LISTING, {"X-Mock-Namespace": "a b"}, "X-Mock-Namespace"),
        (LISTING, {"X-Mock-Namespace": ""}, "X-Mock-Namespace"),
        (LISTING, {"X-Mock-Namespace": "x" * 65}, "X-Mock-Namespace"),
        (f"/__mock/ns/a%20b{LISTING}", {}, "namespace"),
        (f"/__mock/ns/{'x' * 65}{LISTING}", {}, "namespace"),
        (f"/__mock/ns/a{LISTING}", {"X-Mock-Namespace": "b"}, "X-Mock-Namespace"),
        ("/__mock/requests", {"X-Mock-Namespace": "é"}, "X-Mock-Namespace"),
    ],
)
def test_a_bad_namespace_is_422_naming_where_it_came_from(any_client, path, headers, field):
    response = api_get(any_client, path, **headers)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert (
        list(response.json["errors"]) == [field]
        and "1 to 64" in response.json["detail"]
        or "path says" in response.json["detail"]
    )


def test_the_journal_lists_api_requests_newest_first_with_what_was_answered(make_app):
    app = make_app()
    behind = requests_behind(app, "fast")
    client = app.test_client()
    api_get(client, LISTING + "?page=2", **{"X-Request-ID": "first-one"})
    api_get(client, LISTING + "?page=2")  # the fast path answers this one
    api_get(client, LISTING + "?page=0")
    client.get(LISTING)  # no key
    assert behind.count(LISTING) == 3
    entries = journal(client)
    assert [(e["method"], e["path"], e["query"], e["status"]) for e in entries] == [
        ("GET", LISTING, {}, 401),
        ("GET", LISTING, {"page": "0"}, 422),
        ("GET", LISTING, {"page": "2"}, 200),
        ("GET", LISTING, {"page": "2"}, 200),
    ]
    oldest = entries[-1]
    assert oldest["request_id"] == "first-one" and oldest["namespace"] == "default"
    assert oldest["target"] == LISTING + "?page=2" and oldest["headers"]["X-Api-Key"] == "***"
    assert set(oldest) == {
        "time",
        "received",
        "method",
        "path",
        "query",
        "target",
        "status",
        "retry_after",
        "request_id",
        "namespace",
        "worker",
        "fault",
        "problem",
        "applied",
        "headers",
    }
    assert oldest["time"].endswith("Z") and oldest["time"] <= entries[0]["time"]
    assert oldest["received"] <= oldest["time"] and oldest["retry_after"] is None


@pytest.mark.parametrize("headers, rules, status, retry_after", [
    ({"Prefer": "code=503, retry-after=7"}, None, 503, 7),
    ({"Prefer": "code=429"}, None, 429, 1),
    ({}, [{"answer": {"code": 503, "retry_after": 4}}], 503, 4),
    ({"Prefer": "code=500"}, None, 500, None),
    ({}, None, 200, None),
])
def test_the_journal_keeps_the_retry_after_an_answer_carried(client, headers, rules, status, retry_after):
    if rules:
        assert client.put("/__mock/faults", json=rules).status_code == 204
    answered = api_get(client, LISTING, **headers)
    assert answered.status_code == status and answered.headers.get("Retry-After") == (
        None if retry_after is None else str(retry_after))
    assert journal(client)[0]["retry_after"] == retry_after


def test_the_journal_keeps_when_a_delayed_request_arrived_as_well_as_when_it_was_answered(client):
    api_get(client, LISTING, Prefer="delay=300")
    kept = client.application.extensions["store"].journal("default")[0]
    assert 0.3 <= kept["time"] - kept["received"] < 5


@pytest.mark.parametrize("app_kind", ["fast", "flask"])
def test_the_journal_keeps_an_errors_detail_and_the_preferences_applied(app_kind, make_app, make_flask_app):
    client = (make_app() if app_kind == "fast" else make_flask_app()).test_client()
    applied = api_get(client, LISTING, Prefer="seed=7").headers["Preference-Applied"]
    refused = client.get(LISTING).json["detail"]  # no key: a 401
    simulated = api_get(client, LISTING, Prefer="code=503").json["detail"]
    entries = journal(client)
    assert [(e["status"], e["problem"], e["applied"]) for e in entries] == [
        (503, simulated, "code=503"),
        (401, refused, None),
        (200, None, applied),
    ]


def test_the_journal_masks_keys_as_the_log_does(client):
    api_get(
        client,
        LISTING + f"?api_key={API_KEY}&token=secret-token-value",
        Authorization="Bearer secret-bearer-value",
        **{"X-Other": f"v {API_KEY}"},
    )
    [entry] = journal(client)
    # Values no request id or time can contain by chance (hex ids once held "abc").
    assert API_KEY not in str(entry) and "secret-token-value" not in str(entry)
    assert "secret-bearer-value" not in str(entry)
    assert entry["query"] == {"api_key": "***", "token": "***"}
    assert entry["headers"]["Authorization"] == "Bearer ***"
    assert entry["headers"]["X-Other"] == "v ***"


def test_a_key_in_the_path_is_masked_and_the_path_still_finds_its_requests(client):
    path = f"/chatbots/{API_KEY}/conversations"
    api_get(client, path)
    [entry] = journal(client, f"?path={path}")
    assert entry["path"] == entry["target"] == "/chatbots/***/conversations"
    assert API_KEY not in str(entry)


def test_the_journal_filters_by_path_limit_and_namespace(any_client):
    other = f"/chatbots/{DOCUMENTED_CHATBOT}/conversations"
    for path in (LISTING, other, LISTING):
        api_get(any_client, path)
    api_get(any_client, other, namespace="b")
    assert [e["path"] for e in journal(any_client, f"?path={LISTING}")] == [LISTING, LISTING]
    assert [e["path"] for e in journal(any_client, "?limit=1")] == [LISTING]
    assert [e["namespace"] for e in journal(any_client, "?namespace=b")] == ["b"]
    assert [e["namespace"] for e in journal(any_client, namespace="b")] == ["b"]
    assert journal(any_client, f"?path={LISTING}", namespace="b") == []


def test_the_prefix_form_is_journalled_under_the_api_path_in_its_namespace(client):
    api_get(client, f"/__mock/ns/a{LISTING}")
    [entry] = journal(client, namespace="a")
    assert (entry["path"], entry["namespace"], entry["target"]) == (LISTING, "a", f"/__mock/ns/a{LISTING}")
    assert journal(client) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("?limit=0", "limit"),
        ("?path=chatbots", "path"),
        ("?bogus=1", "bogus"),
        ("?namespace=a%20b", "namespace"),
        ("?limit=1&limit=2", "limit"),
    ],
)
def test_a_bad_journal_query_is_422(client, query, field):
    response = client.get("/__mock/requests" + query)
    assert response.status_code == 422 and list(response.json["errors"]) == [field]


def test_the_journal_is_bounded_per_namespace(make_app):
    client = make_app({"journal_size": 3}).test_client()
    for page in range(1, 6):
        api_get(client, f"{LISTING}?page={page}")
    assert [e["query"]["page"] for e in journal(client)] == ["5", "4", "3"]


def test_the_journals_of_the_least_recently_journalled_namespaces_go_past_the_bound(make_app):
    client = make_app({"journal_namespaces": 2}).test_client()
    client.put(CONTROL, json=sample_conversations(GENERATED_CHATBOT, 2), headers={"X-Mock-Namespace": "team-a"})
    for namespace in ("team-a", "team-b", "team-c"):
        api_get(client, namespace=namespace)
        time.sleep(0.02)  # past the file system's timestamp tick, which orders the namespaces
    assert [len(journal(client, namespace=ns)) for ns in ("team-a", "team-b", "team-c")] == [0, 1, 1]
    assert len(api_get(client, namespace="team-a").json) == 2  # what was set there is still served


def test_journal_size_zero_records_nothing(make_app):
    client = make_app({"journal_size": 0}).test_client()
    api_get(client)
    assert journal(client) == []


def test_control_requests_and_health_probes_are_not_journalled_and_delete_clears_it(client):
    api_get(client)
    client.put(CONTROL, json=[])
    client.get("/__mock/requests")
    assert client.get("/healthz").status_code == 200
    client.get("/openapi.json")
    assert [e["path"] for e in journal(client)] == ["/openapi.json", LISTING]
    assert client.delete("/__mock/requests").status_code == 204
    assert journal(client) == []
    assert client.get(CONTROL).status_code == 200  # the data stays


def test_reset_clears_one_namespaces_data_and_journal(client):
    for namespace in ("a", "b"):
        client.put(CONTROL, json=[], headers={"X-Mock-Namespace": namespace})
        api_get(client, namespace=namespace)
    assert client.post("/__mock/reset", headers={"X-Mock-Namespace": "a"}).status_code == 204
    assert (
        journal(client, namespace="a") == []
        and client.get(CONTROL, headers={"X-Mock-Namespace": "a"}).status_code == 404
    )
    assert len(journal(client, namespace="b")) == 1
    assert client.get(CONTROL, headers={"X-Mock-Namespace": "b"}).status_code == 200
