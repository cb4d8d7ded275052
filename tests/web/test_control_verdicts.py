"""GET /__mock/verdicts through the app: per namespace like the journal, judged from the store's record."""

import pytest

from tests.helpers import API_KEY, api_get
from tests.helpers import GENERATED_LISTING as LISTING

VERDICTS = "/__mock/verdicts"
WRONG_KEY = "not-a-key-the-api-takes"  # any 48 hex characters pass when no api_keys are set


def test_a_namespace_with_no_requests_or_well_spaced_ones_has_no_verdicts(any_client):
    assert any_client.get(VERDICTS).json == []
    api_get(any_client)
    api_get(any_client, LISTING + "?page=2")
    answered = any_client.get(VERDICTS)
    assert (answered.status_code, answered.content_type, answered.json) == (200, "application/json", [])


@pytest.mark.parametrize("headers, kind", [
    ({"X-API-Key": API_KEY}, "repeated-request"),  # the fast path answers the repeats
    ({"X-API-Key": WRONG_KEY}, "ignored-auth-error"),
    ({"X-API-Key": API_KEY, "Prefer": "code=503"}, "retry-before-retry-after"),
    ({"X-API-Key": API_KEY, "Prefer": "code=500"}, "retry-without-backoff"),
])
def test_a_tight_loop_earns_its_verdict_whichever_path_answers(any_client, headers, kind):
    for _ in range(6):
        any_client.get(LISTING, headers=headers)
    verdicts = any_client.get(VERDICTS).json
    assert [verdict["kind"] for verdict in verdicts] == [kind]
    journal = any_client.get("/__mock/requests").json
    for verdict in verdicts:
        assert verdict["request_ids"] == [entry["request_id"] for entry in reversed(journal)]
        assert API_KEY not in str(verdict) and WRONG_KEY not in str(verdict)


def test_each_namespace_is_judged_alone_and_named_as_the_journal_names_it(client):
    for _ in range(4):
        client.get(LISTING, headers={"X-API-Key": WRONG_KEY, "X-Mock-Namespace": "team-a"})
    assert client.get(VERDICTS).json == []
    by_header = client.get(VERDICTS, headers={"X-Mock-Namespace": "team-a"}).json
    assert [verdict["kind"] for verdict in by_header] == ["ignored-auth-error"]
    assert client.get(VERDICTS + "?namespace=team-a").json == by_header
    assert client.get("/__mock/ns/team-a" + VERDICTS).json == by_header
    assert client.post("/__mock/reset", headers={"X-Mock-Namespace": "team-a"}).status_code == 204
    assert client.get(VERDICTS + "?namespace=team-a").json == []


@pytest.mark.parametrize("query, field", [("?namespace=no%20spaces", "namespace"), ("?limit=3", "limit")])
def test_a_bad_query_is_422_naming_it(client, query, field):
    refused = client.get(VERDICTS + query)
    assert (refused.status_code, refused.content_type) == (422, "application/problem+json")
    assert list(refused.json["errors"]) == [field]


def test_with_an_admin_token_the_verdicts_need_it(make_app):
    client = make_app({"admin_token": "s3cret-admin-token-0123456789"}).test_client()
    assert client.get(VERDICTS).status_code == 401
    authorized = client.get(VERDICTS, headers={"Authorization": "Bearer s3cret-admin-token-0123456789"})
    assert (authorized.status_code, authorized.json) == (200, [])
