"""Answers without content (web/responses.py): no Content-Type on any 204, whichever route sends it."""

import pytest

from tests.helpers import GENERATED_CHATBOT, GENERATED_CONTROL, sample_conversations

ORIGIN = "http://localhost:5173"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
             "Access-Control-Request-Headers": "content-type, x-mock-namespace"}
# (method, path, client arguments): the control API's writes.
WRITES = [
    ("PUT", GENERATED_CONTROL, {"json": sample_conversations(GENERATED_CHATBOT, 2)}),
    ("DELETE", GENERATED_CONTROL, {}),
    ("DELETE", "/__mock/requests", {}),
    ("POST", "/__mock/reset", {}),
]
# Where the same route is reached: plainly, in a namespace (header or prefix), from a browser's page.
WAYS = {"plain": ("", {}), "namespace-header": ("", {"X-Mock-Namespace": "alice"}),
        "namespace-prefix": ("/__mock/ns/alice", {}), "browser": ("", {"Origin": ORIGIN})}


def _assert_no_content(response):
    assert response.status_code == 204, response.get_data()
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers, response.headers


def _every_rule(app):
    """Each route of the app as a path (its variables filled in)."""
    for rule in app.url_map.iter_rules():
        yield rule.rule.replace("<path:chatbot_id>", GENERATED_CHATBOT).replace("<path:filename>", "x.css")


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("method, path, extra", WRITES, ids=[f"{m}-{p}" for m, p, _ in WRITES])
def test_the_control_apis_writes_answer_204_without_a_content_type(any_client, way, method, path, extra):
    prefix, headers = WAYS[way]
    _assert_no_content(any_client.open(prefix + path, method=method, headers=headers, **extra))


@pytest.mark.parametrize("base_path", ["", "/v1"])
@pytest.mark.parametrize("headers", [{}, PREFLIGHT], ids=["plain", "preflight"])
def test_every_routes_options_answer_is_204_without_a_content_type(make_app, base_path, headers):
    app = make_app({"base_path": base_path})
    client = app.test_client()
    paths = list(_every_rule(app))
    assert f"{base_path}/chatbots/{GENERATED_CHATBOT}/conversations" in paths and "/__mock/reset" in paths
    for path in paths + [f"/__mock/ns/alice{path}" for path in paths]:
        response = client.options(path, headers=headers)
        _assert_no_content(response)
        assert ("Access-Control-Allow-Methods" in response.headers) == (headers == PREFLIGHT)
