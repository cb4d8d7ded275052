"""The dashboard's server side (web/dashboard.py): its files, its guard, its stream's framing and events."""

import base64
import json
import re
import time

import pytest

from conversations_mock.schemas.control import SetChatbotSchema
from conversations_mock.web import dashboard
from tests.helpers import GENERATED_CHATBOT, api_get, sample_conversations
from tests.helpers import GENERATED_LISTING as LISTING

TOKEN = "a-dashboard-token-of-enough-length-1234"
PATHS = ["/__mock/ui", "/__mock/ui/dashboard.js", "/__mock/ui/dashboard.css", "/__mock/ui/stream",
         "/__mock/ui/chatbots", f"/__mock/ui/generated/{GENERATED_CHATBOT}?count=1"]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/__mock/ui", "text/html"), ("/__mock/ui/dashboard.js", "text/javascript"),
     ("/__mock/ui/dashboard.css", "text/css")],
)
def test_the_page_and_its_files_allow_only_this_origins_files(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200 and response.content_type.startswith(content_type)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy


def test_the_page_has_no_inline_script_or_style_and_names_no_other_site(client):
    page = client.get("/__mock/ui").get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", page) == ['<script src="ui/dashboard.js" defer>']
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page)


def test_the_script_writes_no_markup():
    script = (dashboard.ASSETS / "dashboard.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "outerHTML" not in script and "insertAdjacentHTML" not in script
    assert "document.write" not in script and "eval(" not in script


@pytest.mark.parametrize("name", ["dashboard.html", "../control.py", "other.js"])
def test_no_other_file_is_served(client, name):
    response = client.get(f"/__mock/ui/{name}")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize("path", PATHS)
def test_elsewhere_than_loopback_without_a_token_the_dashboard_is_refused(client, path):
    response = client.get(path, environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 403 and "admin_token" in response.json["detail"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("authorization", "status"), [(None, 401), ("Bearer wrong", 401), (f"Bearer {TOKEN}", 200)]
)
def test_with_an_admin_token_the_dashboard_requires_it(make_app, path, authorization, status):
    client = make_app({"admin_token": TOKEN}).test_client()
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(path, headers=headers, buffered=False)
    assert response.status_code == status
    response.close()


def _basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(("user", "status"), [("anyone", 200), ("", 200)])
@pytest.mark.parametrize("path", ["/__mock/ui", "/__mock/ui/stream", "/__mock/faults"])
def test_a_browsers_login_with_the_token_as_password_passes_the_guard(make_app, path, user, status):
    client = make_app({"admin_token": TOKEN}).test_client()
    response = client.get(path, headers={"Authorization": _basic(user, TOKEN)}, buffered=False)
    assert response.status_code == status
    response.close()


@pytest.mark.parametrize("authorization", [None, _basic("anyone", "wrong"), _basic(TOKEN, ""), "Basic %%%"])
def test_the_dashboard_asks_a_browser_for_a_login_the_control_api_for_a_bearer_token(make_app, authorization):
    client = make_app({"admin_token": TOKEN}).test_client()
    headers = {"Authorization": authorization} if authorization else {}
    page = client.get("/__mock/ui", headers=headers)
    assert page.status_code == 401 and page.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert "admin token as the password" in page.json["detail"]
    control = client.get("/__mock/faults", headers=headers)
    assert control.status_code == 401 and control.headers["WWW-Authenticate"].startswith("Bearer realm=")


def test_a_page_of_a_foreign_origin_cannot_read_the_dashboard(client):
    response = client.get("/__mock/ui/chatbots", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    ("event", "data", "framed"),
    [
        ("entries", b"[1]", b"event: entries\ndata: [1]\n\n"),
        ("snapshot", b"a\nb", b"event: snapshot\ndata: a\ndata: b\n\n"),  # a line break never ends the event
    ],
)
def test_an_event_is_framed_as_the_event_stream_format_says(event, data, framed):
    assert dashboard.frame(event, data) == framed


def _events(frames) -> list:
    """(event, data) of each frame that names one (retry and comments left out)."""
    found = []
    for frame in frames:
        lines = [line for line in frame.decode().strip().split("\n") if not line.startswith(":")]
        fields = dict(line.split(": ", 1) for line in lines)
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


def test_the_stream_sends_the_journal_then_what_is_new_then_a_cleared_journal(app):
    client = app.test_client()
    api_get(client, LISTING + "?page=2")
    store = app.extensions["store"]
    happenings = iter([
        lambda: None,  # nothing new: a comment only
        lambda: (api_get(client, LISTING + "?page=3"), api_get(client, LISTING + "?page=4")),
        lambda: client.delete("/__mock/requests"),
        lambda: api_get(client, LISTING + "?page=5"),
    ])
    until = time.monotonic() + 60
    frames = dashboard.journal_events(store, "default", 0, until, sleep=lambda _: next(happenings)())
    assert next(frames) == b"retry: 1000\n\n"
    taken = [next(frames) for _ in range(5)]
    assert taken[1] == b": idle\n\n"
    events = _events(taken)
    assert [(name, [entry["query"].get("page") for entry in data]) for name, data in events] == [
        ("snapshot", ["2"]),
        ("entries", ["4", "3"]),  # newest first, as the journal lists them
        ("snapshot", []),
        ("entries", ["5"]),
    ]
    assert events[1][1][0]["headers"]["X-Api-Key"] == "***"  # masked, as the journal shows them


def test_the_stream_ends_when_its_time_is_up(app):
    frames = list(dashboard.journal_events(app.extensions["store"], "default", 0, time.monotonic() - 1))
    assert frames == [b"retry: 1000\n\n", b"event: snapshot\ndata: []\n\n"]


def test_the_stream_route_watches_the_namespace_asked_for(client):
    api_get(client, LISTING, namespace="team-a")
    response = client.get("/__mock/ui/stream?namespace=team-a", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    frames = iter(response.response)
    next(frames)
    [(event, data)] = _events([next(frames)])
    assert event == "snapshot" and [entry["namespace"] for entry in data] == ["team-a"]
    response.close()


def test_the_stream_refuses_a_bad_namespace(client):
    response = client.get("/__mock/ui/stream?namespace=no%20spaces")
    assert response.status_code == 422 and "namespace" in response.json["errors"]


def test_the_chatbots_a_namespace_set_are_listed_with_their_counts(client):
    body = json.dumps(sample_conversations(GENERATED_CHATBOT, 3))
    headers = {"Content-Type": "application/json", "X-Mock-Namespace": "team-a"}
    put = client.put(f"/__mock/chatbots/{GENERATED_CHATBOT}/conversations", data=body, headers=headers)
    assert put.status_code == 204
    listed = client.get("/__mock/ui/chatbots", headers={"X-Mock-Namespace": "team-a"}).json
    assert listed == [{"id": GENERATED_CHATBOT, "conversations": 3}]
    assert SetChatbotSchema(many=True).validate(listed) == {}  # as the OpenAPI document declares it
    assert client.get("/__mock/ui/chatbots").json == []


def test_generated_conversations_are_repeatable_and_the_control_api_takes_them(client):
    url = f"/__mock/ui/generated/{GENERATED_CHATBOT}?count=4&seed=11"
    first, again = client.get(url).json, client.get(url).json
    assert len(first) == 4 and first == again and first != client.get(url.replace("11", "12")).json
    put = client.put(f"/__mock/chatbots/{GENERATED_CHATBOT}/conversations", json=first)
    assert put.status_code == 204
    listed = api_get(client, f"/chatbots/{GENERATED_CHATBOT}/conversations").json
    assert [item["id"] for item in listed] == [item["id"] for item in first]


@pytest.mark.parametrize(
    ("query", "field"),
    [("count=1001", "count"), ("", "count"), ("count=1&seed=-1", "seed"), ("count=1&x=2", "x")],
)
def test_generated_conversations_refuse_a_bad_query(client, query, field):
    response = client.get(f"/__mock/ui/generated/{GENERATED_CHATBOT}?{query}")
    assert response.status_code == 422 and field in json.dumps(response.json["errors"])


def test_dashboard_requests_are_not_journalled(client):
    client.get("/__mock/ui")
    client.get("/__mock/ui/chatbots")
    assert client.get("/__mock/requests").json == []
    api_get(client, LISTING)
    assert len(client.get("/__mock/requests").json) == 1
