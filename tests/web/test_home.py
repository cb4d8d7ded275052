"""GET / points a person at the docs, the document and the API; GET /healthz says the server is up."""

import re
from importlib.metadata import version

import pytest

from tests.helpers import API_KEY, DOCUMENTED_CHATBOT

VERSION = version("conversations-mock")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("base_path", ["", "/v1"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_healthz_answers_ok_with_the_version_and_no_key(make_app, base_path, method):
    response = make_app({"base_path": base_path}).test_client().open("/healthz", method=method)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    if method == "GET":
        clock = {"instant": "2025-03-07T06:00:00+00:00", "mode": "fixed", "speed": 0.0}
        assert response.json == {"status": "ok", "version": VERSION, "clock": clock}


def test_healthz_is_not_under_the_base_path(make_app):
    response = make_app({"base_path": "/v1"}).test_client().get("/v1/healthz")
    assert (response.status_code, response.mimetype) == (404, "application/problem+json")


@pytest.mark.parametrize("path", ["/", "/healthz"])
def test_other_methods_are_problems_naming_the_allowed_ones(client, path):
    response = client.post(path)
    assert (response.status_code, response.mimetype) == (405, "application/problem+json")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("base_path", ["", "/v1"])
@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, text/html;q=0.5"])
def test_root_answers_json_links_without_a_key(make_app, base_path, accept):
    client = make_app({"base_path": base_path}).test_client()
    response = client.get("/", headers={"Accept": accept} if accept else {})
    assert (response.status_code, response.mimetype) == (200, "application/json")
    assert response.headers["Vary"] == "Accept"
    api = f"{base_path}/chatbots/{{chatbot_id}}/conversations"
    assert response.json == {
        "name": "conversations-mock",
        "version": VERSION,
        "api_key_header": "X-API-Key",
        "namespace_header": "X-Mock-Namespace",
        "docs": "/docs/",
        "openapi": "/openapi.json",
        "api": api,
        "example": api.replace("{chatbot_id}", DOCUMENTED_CHATBOT),
        "health": "/healthz",
        "control": "/__mock",
        "control_docs": "/docs/#/control",
    }


@pytest.mark.parametrize("base_path", ["", "/v1"])
def test_every_link_of_the_root_answers(make_app, base_path):
    client = make_app({"base_path": base_path}).test_client()
    links = client.get("/").json
    for name in ("docs", "openapi", "health", "control_docs"):
        assert client.get(links[name]).status_code == 200, name
    # The control API answers under its prefix (this machine, no token), in the namespace the header names.
    journal = client.get(links["control"] + "/requests", headers={links["namespace_header"]: "alice"})
    assert (journal.status_code, journal.json) == (200, [])
    example = client.get(links["example"], headers={links["api_key_header"]: API_KEY})
    assert (example.status_code, len(example.json)) == (200, 10)


@pytest.mark.parametrize("base_path", ["", "/v1"])
def test_root_is_a_small_page_of_links_for_a_browser(make_app, base_path):
    client = make_app({"base_path": base_path}).test_client()
    response = client.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert (response.status_code, response.mimetype) == (200, "text/html")
    assert response.headers["Vary"] == "Accept"
    html = response.get_data(as_text=True)
    assert re.findall(r'href="([^"]*)"', html) == ["/docs/", "/openapi.json", "/healthz", "/docs/#/control"]
    assert f"GET {base_path}/chatbots/{{chatbot_id}}/conversations" in html
    assert "X-API-Key" in html and f"conversations-mock {VERSION}" in html


def test_root_page_says_what_the_control_api_and_namespaces_are(client):
    html = client.get("/", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())  # as a person reads it
    assert "/__mock : the control API" in text and "Authorization: Bearer TOKEN" in text
    assert "X-Mock-Namespace: NAME" in text and "/__mock/ns/NAME before any path" in text


def test_the_control_docs_link_names_the_documents_control_tag(client):
    tag = client.get("/").json["control_docs"].partition("#/")[2]
    document = client.get("/openapi.json").json
    assert tag in [item["name"] for item in document["tags"]]
    assert {operation["tags"][0] for name, item in document["paths"].items() if name.startswith("/__mock/")
            for operation in item.values() if isinstance(operation, dict) and "tags" in operation} == {tag}
