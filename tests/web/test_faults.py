"""web/faults.py and the Prefer fault, dribble and retry-after preferences, in process.

The gunicorn server's side is tests/live/test_faults.py; here, Flask's test client (no socket: a
501) and werkzeug's server, which the pytest plugin runs.
"""

import threading
import time

import pytest
import requests

from conversations_mock.pytest_plugin import ConversationsMockServer
from conversations_mock.web.faults import dribble
from tests.helpers import API_KEY, GENERATED_LISTING, fault_errors

# What `requests` raises for each fault: its connection, chunked-encoding and incomplete-read errors.
RAISED = fault_errors()


@pytest.fixture(scope="module")
def werkzeug_server():
    """The pytest plugin's server: the app behind werkzeug's threaded server."""
    server = ConversationsMockServer()
    yield server
    server.stop()


@pytest.mark.parametrize("fault", sorted(RAISED))
def test_the_plugin_s_server_breaks_connections_too(werkzeug_server, fault):
    raised, cause = RAISED[fault]
    url = werkzeug_server.base_url + GENERATED_LISTING
    with requests.Session() as session:
        for attempt in range(2):
            assert session.get(url, headers={"X-API-Key": API_KEY}, timeout=10).status_code == 200
            with pytest.raises(raised, match=cause):
                session.get(url, timeout=10, headers={
                    "X-API-Key": API_KEY, "Prefer": f"fault={fault}", "X-Request-ID": f"{fault}-{attempt}"})
    store = werkzeug_server.app.extensions["store"]
    journalled = {entry["request_id"]: entry["fault"] for entry in store.journal("default")}
    assert [journalled.get(f"{fault}-{attempt}") for attempt in range(2)] == [fault, fault]


@pytest.mark.parametrize("fault", sorted(RAISED))
def test_without_a_socket_a_fault_is_a_501_naming_why(any_client, fault):
    for _ in range(2):
        response = any_client.get(GENERATED_LISTING, headers={"X-API-Key": API_KEY, "Prefer": f"fault={fault}"})
        assert response.status_code == 501
        assert response.content_type == "application/problem+json"
        assert f"The fault {fault} is made on the connection's socket" in response.json["detail"]


def test_dribble_answers_the_plain_body_with_what_it_applied(any_client, monkeypatch):
    sleeps, sleep, this_thread = [], time.sleep, threading.get_ident()
    # time.sleep is one function for every thread: a store's background thread left by an earlier test
    # sleeps too, and only this thread's sleeps are the dribble's.
    monkeypatch.setattr("conversations_mock.web.faults.time.sleep",
                        lambda seconds: sleeps.append(seconds) if threading.get_ident() == this_thread else sleep(seconds))
    headers = {"X-API-Key": API_KEY}
    plain = any_client.get(GENERATED_LISTING, headers=headers)
    dribbled = any_client.get(GENERATED_LISTING, headers={**headers, "Prefer": "dribble=900"})
    assert dribbled.status_code == 200 and dribbled.get_data() == plain.get_data()
    assert dribbled.headers["Content-Length"] == plain.headers["Content-Length"]
    assert dribbled.headers["Preference-Applied"] == "dribble=900"
    assert len(sleeps) == 9 and sum(sleeps) == pytest.approx(0.9)


@pytest.mark.parametrize("size", [0, 1, 5, 10, 11, 1000])
def test_dribble_splits_a_body_into_pieces_that_join_up(size, monkeypatch):
    monkeypatch.setattr("conversations_mock.web.faults.time.sleep", lambda seconds: None)
    body = bytes(range(256)) * 4
    pieces = list(dribble(body[:size], 500))
    assert b"".join(pieces) == body[:size]
    assert len(pieces) == max(1, min(10, size))


@pytest.mark.parametrize("prefer, retry_after, detail", [
    ("code=429", "1", "retry after 1 second."),
    ("code=503", "1", "retry after 1 second."),
    ("code=429, retry-after=7", "7", "retry after 7 seconds."),
    ("code=503, retry-after=0", "0", "retry after 0 seconds."),
])
def test_retry_after_sets_the_header_and_the_detail(any_client, prefer, retry_after, detail):
    response = any_client.get(GENERATED_LISTING, headers={"X-API-Key": API_KEY, "Prefer": prefer})
    assert response.headers["Retry-After"] == retry_after
    assert detail in response.json["detail"]
    assert response.headers["Preference-Applied"] == prefer


@pytest.mark.parametrize("prefer, message", [
    ("retry-after=5", "retry-after=5: Sets the Retry-After of code=429 or code=503 only; this request asks "
                      "for no code."),
    ("code=500, retry-after=5", "retry-after=5: Sets the Retry-After of code=429 or code=503 only; this "
                                "request asks for code=500."),
    ("retry-after=3601, code=429", "retry-after=3601: Must be from 0 to 3600 seconds."),
    ("fault=slow-loris", "fault=slow-loris: Must be one of: connection-reset, empty-response, malformed-chunk, "
                         "random-data-then-close, truncated-body."),
    ("fault=empty-response, code=200", "fault=empty-response: A fault answers instead of any status: send "
                                       "fault or code, not both."),
    ("dribble=60001", "dribble=60001: Must be from 0 to 60000 milliseconds."),
    ("dribble=100, code=503", "dribble=100: Dribbles the ordinary answer's body: not with a fault or an error "
                              "code."),
    ("dribble", "dribble: Needs a value, e.g. dribble=2000."),
    ("code=429, retry-after", "retry-after: Needs a value, e.g. retry-after=2."),
    ("code=429, retry-after=2, retry-after=3", "retry-after=3: Given more than once; send it once."),
])
def test_preferences_that_cannot_apply_are_422_naming_them(any_client, prefer, message):
    response = any_client.get(GENERATED_LISTING, headers={"X-API-Key": API_KEY, "Prefer": prefer})
    assert response.status_code == 422
    assert response.json["errors"] == {"Prefer": [message]}


def test_the_api_document_names_the_new_preferences_as_they_are_sent(client):
    parameters = client.get("/openapi.json").json["paths"]["/chatbots/{chatbot_id}/conversations"]["get"]["parameters"]
    prefer = next(parameter for parameter in parameters if parameter["name"] == "Prefer")["description"]
    for line in ("- `fault=...`: Break the connection instead of answering", "- `dribble=...`:",
                 "- `retry-after=...`: The Retry-After, in seconds, of the code=429 or code=503 asked for."):
        assert line in prefer
