"""GET /openapi.json and the openapi command: a valid OpenAPI 3 document matching what the mock answers."""

import copy
import json
import re
from importlib.metadata import version

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from conversations_mock.commands.cli import main
from conversations_mock.schemas.preferences import SCENARIO_CODES, PreferencesSchema
from conversations_mock.web.limits import HEADERS as RATE_LIMIT_HEADERS
from conversations_mock.web.openapi import build_document
from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, GENERATED_CHATBOT

PATH = "/chatbots/{chatbot_id}/conversations"
VERSION = version("conversations-mock")


def _operation(document):
    return document["paths"][PATH]["get"]


def _validator(document, schema):
    """A validator for `schema`, whose $refs point into the document's components."""
    return OAS30Validator({**schema, "components": document["components"]})


def _conversation_validator(document):
    return _validator(document, {"$ref": "#/components/schemas/Conversation"})


@pytest.mark.parametrize("base_path", ["", "/v1", "/api/v2"])
def test_document_is_valid_openapi_3(make_app, base_path):
    response = make_app({"base_path": base_path}).test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.json
    validate(document)
    assert document["openapi"].startswith("3.")
    # Relative to the server that serves the document, so Swagger UI calls that server.
    assert document["servers"] == [{"url": base_path or "/", "description": "This server"}]
    # The control API keeps its place at the root, whatever the base path.
    assert list(document["paths"]) == [PATH, "/__mock/chatbots/{chatbot_id}/conversations", "/__mock/rate-limit",
                                       "/__mock/requests", "/__mock/verdicts", "/__mock/faults",
                                       "/__mock/reset", "/__mock/ui", "/__mock/ui/{filename}",
                                       "/__mock/ui/chatbots", "/__mock/ui/generated/{chatbot_id}",
                                       "/__mock/ui/stream"]


@pytest.mark.parametrize("base_path", ["", "/v1"])
def test_the_document_and_the_docs_page_give_the_packages_version(make_app, base_path):
    client = make_app({"base_path": base_path}).test_client()
    assert client.get("/openapi.json").json["info"]["version"] == VERSION
    assert build_document(base_path)["info"]["version"] == VERSION  # the openapi command's file too
    assert f"<title>Get Conversations API - conversations-mock {VERSION}</title>" in client.get("/docs").text
    assert client.get("/healthz").json["version"] == VERSION


@pytest.mark.parametrize("base_path", ["", "/v1"])
def test_documented_control_requests_reach_the_control_api(make_app, base_path):
    """Under a base path the control API stays at the root: its paths name their server."""
    client = make_app({"base_path": base_path}).test_client()
    document = client.get("/openapi.json").json
    for path in ("/__mock/requests", "/__mock/reset"):
        server = document["paths"][path].get("servers", document["servers"])[0]["url"]
        method = next(iter(document["paths"][path]))
        assert client.open(server.rstrip("/") + path, method=method.upper()).status_code in (200, 204), path


@pytest.mark.parametrize("base_path", ["", "/v1"])
def test_documented_request_works_on_the_server(make_app, base_path):
    """A request built from the document alone (server, path, parameter examples) answers 200."""
    client = make_app({"base_path": base_path}).test_client()
    document = client.get("/openapi.json").json
    params = {p["name"]: p for p in _operation(document)["parameters"]}
    url = document["servers"][0]["url"].rstrip("/") + PATH.format(chatbot_id=params["chatbot_id"]["example"])
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    [key] = re.findall(r"`([0-9a-f]{48})`", scheme["description"])
    response = client.get(url, headers={scheme["name"]: key})
    assert response.status_code == 200
    assert response.json == _operation(document)["responses"]["200"]["content"]["application/json"]["example"]


def test_parameters_state_the_rules_the_server_applies():
    params = {(p["in"], p["name"]): p for p in _operation(build_document())["parameters"]}
    assert set(params) == {
        ("header", "Prefer"),
        ("header", "X-Mock-Namespace"),
        ("path", "chatbot_id"),
        ("query", "page"),
        ("query", "page_size"),
        ("query", "state"),
    }
    assert params["path", "chatbot_id"]["required"] is True
    assert params["header", "X-Mock-Namespace"]["schema"]["pattern"] == "^[A-Za-z0-9._-]{1,64}$"
    assert params["path", "chatbot_id"]["schema"] == {
        "type": "string",
        "format": "uuid",
        "pattern": "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{32})$",
    }
    assert params["query", "page"]["schema"] == {
        "type": "integer",
        "default": 1,
        "minimum": 1,
        "maximum": 2**31 - 1,
    }
    assert params["query", "page_size"]["schema"] == {
        "type": "integer",
        "default": 10,
        "minimum": 1,
        "maximum": 100,
    }
    assert params["query", "state"]["schema"] == {
        "type": "string",
        "enum": ["in_progress", "resolved", "closed"],
    }
    assert not any(params["query", name]["required"] for name in ("page", "page_size", "state"))


def test_api_key_is_described_once_as_a_security_scheme():
    # Also a header parameter, it was typed twice in /docs and Authorize silently replaced the field.
    document = build_document()
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert {name: scheme[name] for name in ("type", "in", "name")} == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert "48 lowercase hexadecimal characters" in scheme["description"] and "401" in scheme["description"]
    assert f"`{API_KEY}`" in scheme["description"]
    assert _operation(document)["security"] == [{"ApiKey": []}]
    assert not [p for p in _operation(document)["parameters"] if p["name"].lower() == "x-api-key"]


def test_ok_response_describes_array_headers_and_example(get):
    ok = _operation(build_document())["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Conversation"},
    }
    assert ok["headers"]["X-Total-Count"]["schema"]["type"] == "integer"
    assert ok["headers"]["Link"]["schema"]["type"] == "string"
    # The example is exactly what the mock answers for the documented chatbot.
    assert (
        ok["content"]["application/json"]["example"]
        == get(f"/chatbots/{DOCUMENTED_CHATBOT}/conversations").json
    )


@pytest.mark.parametrize("status", [400, 401, 404, 405, 413, 422, 500])
def test_every_error_is_a_documented_problem(status):
    response = _operation(build_document())["responses"][str(status)]
    content = response["content"]["application/problem+json"]
    assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert content["example"]["status"] == status


# Requests that make the mock answer each documented error, checked against the Problem schema.
ERROR_REQUESTS = [
    (401, "get", f"/chatbots/{DOCUMENTED_CHATBOT}/conversations", {}, {}),
    (404, "get", "/nope", {"X-API-Key": API_KEY}, {}),
    (405, "post", f"/chatbots/{DOCUMENTED_CHATBOT}/conversations", {"X-API-Key": API_KEY}, {}),
    (422, "get", f"/chatbots/{DOCUMENTED_CHATBOT}/conversations?page_size=0", {"X-API-Key": API_KEY}, {}),
    (
        400,
        "get",
        f"/chatbots/{DOCUMENTED_CHATBOT}/conversations",
        {"X-API-Key": API_KEY},
        {"data": "{not json", "content_type": "application/json"},
    ),
    (
        413,
        "get",
        f"/chatbots/{DOCUMENTED_CHATBOT}/conversations",
        {"X-API-Key": API_KEY},
        {"data": "[" + "1," * 20 + "1]", "content_type": "application/json"},
    ),
]


@pytest.mark.parametrize(
    "status, method, path, headers, body", ERROR_REQUESTS, ids=[str(r[0]) for r in ERROR_REQUESTS]
)
def test_error_bodies_match_the_problem_schema(make_app, status, method, path, headers, body):
    document = build_document()
    response = getattr(make_app({"max_body": 16}).test_client(), method)(path, headers=headers, **body)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert str(status) in _operation(document)["responses"]
    _validator(document, {"$ref": "#/components/schemas/Problem"}).validate(response.json)


@pytest.mark.parametrize("code", [code for code in SCENARIO_CODES if code != 200])
def test_every_scenario_status_is_documented_as_served(get, code):
    """`Prefer: code=N` answers: documented status, Problem body, and every header the document names."""
    document = build_document()
    documented = _operation(document)["responses"][str(code)]
    response = get(f"/chatbots/{DOCUMENTED_CHATBOT}/conversations", headers={"Prefer": f"code={code}"})
    assert response.status_code == code
    _validator(document, {"$ref": "#/components/schemas/Problem"}).validate(response.json)
    # The rate limit's headers come only under a rate limit (tests/web/test_limits.py).
    assert set(documented["headers"]) - set(RATE_LIMIT_HEADERS) <= set(response.headers.keys())


def test_the_rate_limits_headers_are_documented_on_the_pages_and_its_429():
    responses = _operation(build_document())["responses"]
    for status in ("200", "429"):
        assert set(RATE_LIMIT_HEADERS) <= set(responses[status]["headers"])
    assert "draft-ietf-httpapi-ratelimit-headers-11" in responses["200"]["headers"]["RateLimit-Policy"]["description"]
    assert "--rate-limit" in responses["429"]["description"]


def test_prefer_header_is_documented_from_the_preferences_schema(get):
    prefer = {p["name"]: p for p in _operation(build_document())["parameters"]}["Prefer"]
    assert prefer["in"] == "header" and prefer["required"] is False
    for name, field in PreferencesSchema().fields.items():
        assert f"`{field.data_key or name}=...`" in prefer["description"]  # as a client sends it
    assert "429" in prefer["description"] and "60000" in prefer["description"]
    # No example: Swagger UI would put it in every "try it out" request.
    assert "example" not in prefer
    response = get(f"/chatbots/{DOCUMENTED_CHATBOT}/conversations", headers={"Prefer": "code=429"})
    assert response.status_code == 429
    assert response.headers["Preference-Applied"] == "code=429"


def test_conversation_schema_accepts_what_the_mock_serves(get):
    """Documented and generated pages (null, string and object last_message) all validate."""
    validator = _conversation_validator(build_document())
    served = get(f"/chatbots/{DOCUMENTED_CHATBOT}/conversations").json
    for seed_chatbot in (GENERATED_CHATBOT, "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"):
        served += get(f"/chatbots/{seed_chatbot}/conversations?page_size=100").json
    kinds = {type(c["last_message"]).__name__ for c in served}
    assert kinds == {"NoneType", "str", "dict"}
    for conversation in served:
        validator.validate(conversation)


@pytest.mark.parametrize(
    "change",
    [
        {"last_message": 5},
        {"last_message": {"content": "hi"}},
        {"last_message": ["hi"]},
        {"created_at": 1741323369},
        {"platform": "telegram"},
        {"state": "open"},
        {"active": "true"},
        {"unexpected": 1},
    ],
    ids=lambda change: next(iter(change)) + "=" + json.dumps(next(iter(change.values()))),
)
def test_conversation_schema_refuses_wrong_values(documented_example, change):
    conversation = {**copy.deepcopy(documented_example[0]), **change}
    assert not _conversation_validator(build_document()).is_valid(conversation)


def test_custom_fields_have_their_types():
    properties = build_document()["components"]["schemas"]["Conversation"]["properties"]
    assert properties["created_at"] == {
        "type": "string",
        "format": "date-time",
        "example": "2025-03-07T04:56:09.200005+00:00",
    }
    assert properties["active"] == {"type": "boolean"}
    alternatives = properties["last_message"]["oneOf"]
    assert alternatives[2] == {"$ref": "#/components/schemas/Message"}
    assert [a.get("type") for a in alternatives[:2]] == ["object", "string"]


# --- the openapi command --------------------------------------------------------------------


def test_command_writes_the_served_document(tmp_path, capsys, client):
    out = tmp_path / "openapi.json"
    assert main(["openapi", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == client.get("/openapi.json").json
    assert str(out) in capsys.readouterr().err


def test_command_never_overwrites_without_force(tmp_path, capsys):
    out = tmp_path / "openapi.json"
    out.write_text("mine", encoding="utf-8")
    assert main(["openapi", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "mine"
    assert main(["openapi", "--out", str(out), "--force", "--base-path", "/v1"]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["servers"][0]["url"] == "/v1"
    assert [p.name for p in tmp_path.iterdir()] == ["openapi.json"]


def test_command_writes_to_stdout(capsys):
    assert main(["openapi", "--out", "-", "--base-path", "/v2"]) == 0
    document = json.loads(capsys.readouterr().out)
    validate(document)
    assert document["servers"][0]["url"] == "/v2"


@pytest.mark.parametrize(
    "args, status, message",
    [
        (
            ["--base-path", "v1"],
            2,
            "base_path (--base-path / MOCK_BASE_PATH) (got 'v1'): Must be empty or like '/v1'",
        ),
        (["--base-path", "/v1/"], 2, "no trailing slash"),
    ],
)
def test_command_refuses_a_bad_base_path(tmp_path, capsys, args, status, message):
    out = tmp_path / "openapi.json"
    assert main(["openapi", "--out", str(out), *args]) == status
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not out.exists()


def test_command_reports_an_unwritable_path(tmp_path, capsys):
    out = tmp_path / "missing" / "openapi.json"
    assert main(["openapi", "--out", str(out)]) == 1
    assert f"cannot write {out}: No such file or directory" in capsys.readouterr().err


def test_the_control_api_is_described_under_its_own_tag_from_the_schemas():
    document = build_document()
    control = {(path, method): operation for path, item in document["paths"].items()
               for method, operation in item.items() if path.startswith("/__mock")}
    # chatbots (3), requests (2), verdicts, reset, rate-limit (3), faults (3) and the dashboard's (5)
    assert len(control) == 18 and all(op["tags"] == ["control"] for op in control.values())
    assert "control" in {tag["name"] for tag in document["tags"]}
    put = control[("/__mock/chatbots/{chatbot_id}/conversations", "put")]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Conversation"}}
    assert {"204", "400", "413", "422", "503"} <= set(put["responses"])
    assert put["security"] == [{}, {"AdminToken": []}]
    journal = control[("/__mock/requests", "get")]
    assert {p["name"] for p in journal["parameters"]} == {"X-Mock-Namespace", "path", "namespace", "limit"}
    assert set(document["components"]["schemas"]["JournalEntry"]["properties"]) >= {
        "method", "path", "status", "received", "retry_after"}
    verdicts = control[("/__mock/verdicts", "get")]
    assert {p["name"] for p in verdicts["parameters"]} == {"X-Mock-Namespace", "namespace"}
    assert verdicts["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Verdict"}}
    verdict = document["components"]["schemas"]["Verdict"]
    assert set(verdict["required"]) == {"kind", "detail", "request_ids"}
    assert verdict["properties"]["kind"]["enum"] == [
        "retry-before-retry-after", "retry-without-backoff", "ignored-auth-error", "repeated-request"]
    rate_limit = control[("/__mock/rate-limit", "put")]["requestBody"]["content"]["application/json"]["schema"]
    assert rate_limit == {"$ref": "#/components/schemas/RateLimit"}
    assert document["components"]["schemas"]["RateLimit"]["properties"]["rate_limit"]["pattern"] == (
        r"^[0-9]{1,10}/(s|min|h)$")


def _documented_rules(app):
    """(path, method) of every route the app registers under /__mock, as the document writes them."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/__mock"):
            path = re.sub(r"<(?:[a-z]+:)?([A-Za-z_]+)>", r"{\1}", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield path, method.lower()


def test_every_route_under_the_control_prefix_is_in_the_document(make_app):
    """Walks the app's routes, so the next route added without its description fails here."""
    app = make_app()
    document = build_document()
    routes = list(_documented_rules(app))
    assert ("/__mock/ui/stream", "get") in routes and ("/__mock/reset", "post") in routes
    missing = [route for route in routes if route[1] not in document["paths"].get(route[0], {})]
    assert missing == []


@pytest.mark.parametrize("path, content_type", [
    ("/__mock/ui", "text/html"),
    ("/__mock/ui/dashboard.js", "text/javascript"),
    ("/__mock/ui/stream", "text/event-stream"),
])
def test_the_dashboards_routes_are_documented_with_what_they_answer(client, path, content_type):
    document = client.get("/openapi.json").json
    template = "/__mock/ui/{filename}" if path.endswith(".js") else path
    operation = document["paths"][template]["get"]
    assert operation["tags"] == ["control"] and {"AdminLogin": []} in operation["security"]
    assert content_type in operation["responses"]["200"]["content"]
    assert "Basic" in operation["responses"]["401"]["headers"]["WWW-Authenticate"]["description"]
    served = client.get(path, query_string={"namespace": "team-a"} if path.endswith("stream") else None,
                        buffered=False)
    assert served.status_code == 200 and served.mimetype == content_type
    served.close()
    if template.endswith("{filename}"):
        filenames = operation["parameters"][-1]["schema"]["enum"]
        assert all(client.get(f"/__mock/ui/{name}").status_code == 200 for name in filenames)


@pytest.mark.parametrize("rules, valid", [
    ([{"times": 2, "answer": {"code": 503, "retry_after": 1}}], True),
    ([{"match": {"page": 2, "state": "closed"}, "rate": 0.5, "answer": {"fault": "connection-reset"}}], True),
    ([{"answer": {"fault": "no-such-fault"}}], False),
    ([{"times": 0, "answer": {"delay": 10}}], False),
    ([{"rate": 2, "answer": {"delay": 10}}], False),
    ([{"answer": {"delay": 10}, "extra": 1}], False),
    ([{"match": {"page": 2}}], False),
])
def test_the_documented_fault_rules_are_the_ones_put_accepts(client, rules, valid):
    document = client.get("/openapi.json").json
    body = document["paths"]["/__mock/faults"]["put"]["requestBody"]["content"]["application/json"]
    assert _validator(document, body["schema"]).is_valid(body["example"])
    assert _validator(document, body["schema"]).is_valid(rules) is valid
    assert (client.put("/__mock/faults", json=rules).status_code == 204) is valid
