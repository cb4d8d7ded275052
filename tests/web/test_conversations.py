"""The endpoint through HTTP: every error of the issue's table, the documented example, pagination."""

import json

import orjson
import pytest

from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, GENERATED_CHATBOT

PROBLEM = "application/problem+json"
LISTING = f"/chatbots/{GENERATED_CHATBOT}/conversations"
DOCUMENTED = f"/chatbots/{DOCUMENTED_CHATBOT}/conversations"
OTHER_KEY = "0123456789abcdef0123456789abcdef0123456789abcdef"


def assert_problem(response, status, errors_for=None):
    """The answer is a problem document of `status`; `errors_for` names the parameter at fault."""
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = json.loads(response.data)
    assert list(body)[:4] == ["type", "title", "status", "detail"]
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert b"Traceback" not in response.data and b"<html" not in response.data.lower()
    if errors_for is None:
        assert "errors" not in body
    else:
        assert set(body["errors"]) == {errors_for}
        assert all(isinstance(m, str) and m for m in body["errors"][errors_for])
    return body


# --- the API key ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "headers, detail",
    [
        ({}, "missing"),
        ({"X-API-Key": ""}, "not valid"),
        ({"X-API-Key": "abc"}, "not valid"),
        ({"X-API-Key": API_KEY.upper()}, "not valid"),
        ({"X-API-Key": API_KEY + "0"}, "not valid"),
        ({"X-API-Key": API_KEY[:-1]}, "not valid"),
        ({"X-API-Key": " " + API_KEY[1:]}, "not valid"),
        ({"X-API-Key": API_KEY[:-1] + "g"}, "not valid"),
        ({"Authorization": f"Bearer {API_KEY}"}, "missing"),
    ],
    ids=["absent", "empty", "short", "uppercase", "too-long", "too-short", "space", "not-hex", "bearer"],
)
def test_bad_api_key_is_401(client, headers, detail):
    response = client.get(LISTING, headers=headers)
    body = assert_problem(response, 401)
    assert "X-API-Key" in body["detail"] and detail in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("ApiKey ")
    assert 'header="X-API-Key"' in response.headers["WWW-Authenticate"]


def test_any_key_of_the_documented_shape_is_accepted_by_default(client):
    for key in (API_KEY, OTHER_KEY, "f" * 48):
        assert client.get(LISTING, headers={"X-API-Key": key}).status_code == 200


@pytest.mark.parametrize("configured", [[OTHER_KEY], f"{OTHER_KEY}, {'a' * 48}"], ids=["list", "comma-string"])
def test_configured_api_keys_accept_only_those(make_app, configured):
    client = make_app({"api_keys": configured}).test_client()
    assert client.get(LISTING, headers={"X-API-Key": OTHER_KEY}).status_code == 200
    refused = client.get(LISTING, headers={"X-API-Key": API_KEY})
    body = assert_problem(refused, 401)
    assert "not one of the keys" in body["detail"]
    assert "WWW-Authenticate" in refused.headers
    assert_problem(client.get(LISTING), 401)
    if isinstance(configured, str):
        assert client.get(LISTING, headers={"X-API-Key": "a" * 48}).status_code == 200


def test_key_is_checked_before_parameters(client):
    """A caller without a key learns nothing about the parameters."""
    assert_problem(client.get("/chatbots/nope/conversations?page=0"), 401)


# --- path and query -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "chatbot_id",
    ["nope", "5afe16ed-5fd2-4552-a993-903bc9c32bb", "5afe16ed-5fd2-4552-a993-903bc9c32bbz", "1", "a/b",
     # Spellings Python's uuid module reads, but no client means: braces, a URN, a sign, digit
     # separators, padding, and dashes in the wrong places.
     "{5afe16ed-5fd2-4552-a993-903bc9c32bb6}", "urn:uuid:5afe16ed-5fd2-4552-a993-903bc9c32bb6",
     "+afe16ed5fd24552a993903bc9c32bb6", "5afe16ed_5fd24552a993903bc9c32bb6", "%205afe16ed5fd24552a993903bc9c32bb",
     "5afe16ed5fd24552a993903bc9c32bb6%20", "5afe16ed-5fd24552-a993-903bc9c32bb6"],
)
def test_non_uuid_chatbot_id_is_422(get, chatbot_id):
    body = assert_problem(get(f"/chatbots/{chatbot_id}/conversations"), 422, "chatbot_id")
    assert "UUID" in body["errors"]["chatbot_id"][0]


@pytest.mark.parametrize(
    "query, field, says",
    [
        ("page=0", "page", "greater than or equal to 1"),
        ("page=-1", "page", "whole number"),
        ("page=abc", "page", "whole number"),
        ("page=1.5", "page", "whole number"),
        ("page=1e3", "page", "whole number"),
        ("page=", "page", "whole number"),
        ("page=%201", "page", "whole number"),
        ("page=%EF%BC%91", "page", "whole number"),  # a full-width digit one
        ("page=99999999999999999999", "page", "less than or equal to"),
        ("page=2147483648", "page", "less than or equal to"),
        ("page_size=0", "page_size", "greater than or equal to 1"),
        ("page_size=101", "page_size", "less than or equal to 100"),
        ("page_size=abc", "page_size", "whole number"),
        ("page_size=-5", "page_size", "whole number"),
        ("state=open", "state", "in_progress, resolved, closed"),
        ("state=", "state", "in_progress, resolved, closed"),
        ("state=IN_PROGRESS", "state", "in_progress, resolved, closed"),
        ("pagesize=5", "pagesize", "Unknown query parameter"),
        ("page=1&limit=5", "limit", "Unknown query parameter"),
        ("page=1&page=2", "page", "more than once"),
        ("state=closed&state=closed", "state", "more than once"),
    ],
)
def test_bad_query_is_422_naming_the_parameter(get, query, field, says):
    body = assert_problem(get(f"{LISTING}?{query}"), 422, field)
    assert says in " ".join(body["errors"][field])


def test_every_bad_parameter_is_named_at_once(get):
    response = get(f"{LISTING}?page=0&page_size=0&state=x&pagesize=1")
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert set(json.loads(response.data)["errors"]) == {"page", "page_size", "state", "pagesize"}


@pytest.mark.parametrize("query", ["page=1", "page=0001", "page=2147483647", "page_size=1", "page_size=100",
                                   "state=in_progress", "state=resolved", "state=closed", ""])
def test_valid_query_is_200(get, query):
    response = get(f"{LISTING}?{query}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert isinstance(response.json, list)


# --- the body -------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
@pytest.mark.parametrize("body", [b"{bad", b"[1,", b"\xff\xfe", b"{'a': 1}", b"nul"])
def test_malformed_json_body_is_400(get, content_type, body):
    problem = assert_problem(get(LISTING, data=body, content_type=content_type), 400)
    assert "JSON" in problem["detail"]


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"any": ["shape", 1, null]}', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"text"', "application/json"),
        (b"42", "application/json"),
        (b"null", "application/json"),
        (b"", "application/json"),
        (b"{bad", "text/plain"),
        (b"\xff\xfe", "application/octet-stream"),
        (b"a=1&b=2", "application/x-www-form-urlencoded"),
    ],
)
def test_any_valid_json_or_non_json_body_is_ignored(get, body, content_type):
    plain = get(LISTING)
    response = get(LISTING, data=body, content_type=content_type)
    assert response.status_code == 200
    assert response.data == plain.data


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_body_larger_than_max_body_is_413(make_app, content_type):
    client = make_app({"max_body": 10}).test_client()
    headers = {"X-API-Key": API_KEY}
    body = assert_problem(client.get(LISTING, data=b"[" + b"1," * 50 + b"1]", content_type=content_type,
                                     headers=headers), 413)
    assert "10 bytes" in body["detail"]
    assert client.get(LISTING, data=b"[1]", content_type=content_type, headers=headers).status_code == 200


# --- routes and methods ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "path", ["/index.html", "/nope", "/chatbots", f"/chatbots/{GENERATED_CHATBOT}", f"{LISTING}/", f"{LISTING}/x",
             "/v1" + LISTING],
)
def test_unknown_route_is_404(get, path):
    body = assert_problem(get(path), 404)
    assert "/chatbots/{chatbot_id}/conversations" in body["detail"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_wrong_method_is_405_with_allow(client, method):
    response = client.open(LISTING, method=method, headers={"X-API-Key": API_KEY})
    assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "HEAD"} <= allowed and method not in allowed


def test_head_answers_like_get_without_a_body(client, get):
    full = get(f"{LISTING}?page=2")
    head = client.head(f"{LISTING}?page=2", headers={"X-API-Key": API_KEY})
    assert head.status_code == 200
    assert head.data == b""
    for header in ("Content-Type", "X-Total-Count", "Link"):
        assert head.headers[header] == full.headers[header]
    refused = client.head(LISTING)
    assert refused.status_code == 401 and refused.mimetype == PROBLEM and refused.data == b""


def test_unexpected_failure_is_500_problem_without_traceback(make_app, caplog):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom")
    body = assert_problem(response, 500)
    assert b"secret internal detail" not in response.data
    assert b"RuntimeError" not in response.data
    assert "log" in body["detail"]
    # The details go to the log instead, where an operator looks for them.
    assert "secret internal detail" in caplog.text


# --- the documented example -----------------------------------------------------------------

def test_documented_example_byte_for_byte(get, documented_example):
    response = get(f"{DOCUMENTED}?page=1&page_size=10")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    expected = json.dumps(documented_example, separators=(",", ":"), ensure_ascii=False).encode()
    assert response.data == expected
    assert response.data == orjson.dumps(documented_example)
    # Keys in the document's order, which is alphabetical.
    for item in json.loads(response.data):
        assert list(item) == sorted(item)
    assert response.headers["X-Total-Count"] == "10"
    assert response.headers["Link"] == (
        f'<http://localhost{DOCUMENTED}?page=1&page_size=10>; rel="first", '
        f'<http://localhost{DOCUMENTED}?page=1&page_size=10>; rel="last"'
    )


def test_documented_example_is_the_default_page(get):
    assert get(DOCUMENTED).data == get(f"{DOCUMENTED}?page=1&page_size=10").data


@pytest.mark.parametrize("page_size", [1, 3, 4, 10, 100])
def test_documented_example_paginates_in_its_order(get, documented_example, page_size):
    walked = []
    for page in range(1, 100):
        items = get(f"{DOCUMENTED}?page={page}&page_size={page_size}").json
        if not items:
            break
        walked.extend(items)
    assert walked == documented_example


@pytest.mark.parametrize("state", ["in_progress", "resolved", "closed"])
def test_documented_example_filtered_by_state(get, documented_example, state):
    response = get(f"{DOCUMENTED}?state={state}&page_size=100")
    expected = [c for c in documented_example if c["state"] == state]
    assert response.json == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


# --- pagination -----------------------------------------------------------------------------

def _links(response):
    """The Link header as {rel: (page, page_size, state)}."""
    from urllib.parse import parse_qs, urlsplit

    links = {}
    for part in response.headers["Link"].split(", "):
        target, rel = part.split("; ")
        assert target.startswith("<") and target.endswith(">")
        url = urlsplit(target[1:-1])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        links[rel.removeprefix('rel="').removesuffix('"')] = (
            url.path, int(query["page"]), int(query["page_size"]), query.get("state"),
        )
    return links


@pytest.fixture
def small_client(make_app):
    """An app whose generated chatbots have exactly 137 conversations."""
    return make_app({"conversations": "137"}).test_client()


@pytest.mark.parametrize("page_size", [1, 7, 10, 50, 100])
def test_walking_every_page_finds_each_conversation_once_newest_first(small_client, page_size):
    headers = {"X-API-Key": API_KEY}
    seen = []
    last_page = -(-137 // page_size)
    for page in range(1, last_page + 1):
        response = small_client.get(f"{LISTING}?page={page}&page_size={page_size}", headers=headers)
        assert response.status_code == 200
        assert response.headers["X-Total-Count"] == "137"
        items = response.json
        assert len(items) == (page_size if page < last_page else 137 - page_size * (last_page - 1))
        seen.extend(items)
    ids = [c["id"] for c in seen]
    assert len(ids) == 137 and len(set(ids)) == 137
    created = [c["created_at"] for c in seen]
    from datetime import datetime

    moments = [datetime.fromisoformat(c) for c in created]
    assert all(a > b for a, b in zip(moments, moments[1:]))
    after = small_client.get(f"{LISTING}?page={last_page + 1}&page_size={page_size}", headers=headers)
    assert after.status_code == 200 and after.json == [] and after.headers["X-Total-Count"] == "137"


@pytest.mark.parametrize(
    "page, expected",
    [
        (1, {"first": 1, "next": 2, "last": 14}),
        (2, {"first": 1, "prev": 1, "next": 3, "last": 14}),
        (7, {"first": 1, "prev": 6, "next": 8, "last": 14}),
        (14, {"first": 1, "prev": 13, "last": 14}),
        (15, {"first": 1, "prev": 14, "last": 14}),
        (1000, {"first": 1, "prev": 14, "last": 14}),
    ],
    ids=["first", "second", "middle", "last", "just-past", "far-past"],
)
@pytest.mark.parametrize("state", [None, "closed"])
def test_link_header_relations(small_client, page, expected, state):
    headers = {"X-API-Key": API_KEY}
    query = f"page={page}&page_size=10" + (f"&state={state}" if state else "")
    response = small_client.get(f"{LISTING}?{query}", headers=headers)
    total = int(response.headers["X-Total-Count"])
    if state:
        # Scale the expectation to the filtered total: last is its last page.
        last = max(1, -(-total // 10))
        expected = {"first": 1, "last": last}
        if page > 1:
            expected["prev"] = min(page - 1, last)
        if page < last:
            expected["next"] = page + 1
    links = _links(response)
    assert list(links) == [rel for rel in ("first", "prev", "next", "last") if rel in expected]
    assert {rel: target[1] for rel, target in links.items()} == expected
    for path, _, page_size, link_state in links.values():
        assert path == LISTING and page_size == 10 and link_state == state


@pytest.mark.parametrize(
    "query, relations",
    [
        ("page=3&page_size=20", [("first", 1), ("prev", 2), ("next", 4), ("last", 7)]),
        ("page_size=100", [("first", 1), ("next", 2), ("last", 2)]),
        ("page=2&page_size=100", [("first", 1), ("prev", 1), ("last", 2)]),
    ],
)
def test_link_header_is_exact(small_client, query, relations):
    response = small_client.get(f"{LISTING}?{query}", headers={"X-API-Key": API_KEY})
    page_size = query.split("page_size=")[1]
    base = f"http://localhost{LISTING}"
    assert response.headers["Link"] == ", ".join(
        f'<{base}?page={page}&page_size={page_size}>; rel="{rel}"' for rel, page in relations
    )


def test_link_header_keeps_the_state_filter(small_client):
    response = small_client.get(f"{LISTING}?page=2&page_size=5&state=resolved", headers={"X-API-Key": API_KEY})
    last = -(-int(response.headers["X-Total-Count"]) // 5)
    assert last > 2
    base = f"http://localhost{LISTING}"
    assert response.headers["Link"] == (
        f'<{base}?page=1&page_size=5&state=resolved>; rel="first", '
        f'<{base}?page=1&page_size=5&state=resolved>; rel="prev", '
        f'<{base}?page=3&page_size=5&state=resolved>; rel="next", '
        f'<{base}?page={last}&page_size=5&state=resolved>; rel="last"'
    )


def test_empty_history_has_one_empty_page(make_app):
    client = make_app({"conversations": "0"}).test_client()
    response = client.get(LISTING, headers={"X-API-Key": API_KEY})
    assert response.status_code == 200 and response.json == []
    assert response.headers["X-Total-Count"] == "0"
    assert {rel: t[1] for rel, t in _links(response).items()} == {"first": 1, "last": 1}


# --- the state filter -----------------------------------------------------------------------

def _walk(client, query, page_size=100):
    items = []
    for page in range(1, 10_000):
        response = client.get(f"{LISTING}?{query}&page={page}&page_size={page_size}",
                              headers={"X-API-Key": API_KEY})
        assert response.status_code == 200
        if not response.json:
            return items, int(response.headers["X-Total-Count"])
        items.extend(response.json)
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("count", ["137", "1000"])
def test_state_filter_partitions_the_listing(make_app, count):
    client = make_app({"conversations": count}).test_client()
    everything, total = _walk(client, "")
    assert total == int(count) == len(everything)
    totals = 0
    for state in ("in_progress", "resolved", "closed"):
        filtered, state_total = _walk(client, f"state={state}", page_size=37)
        assert all(c["state"] == state for c in filtered)
        assert all(c["active"] == (state == "in_progress") for c in filtered)
        assert filtered == [c for c in everything if c["state"] == state]
        assert state_total == len(filtered) > 0
        totals += state_total
    assert totals == total


# --- settings seen through HTTP -------------------------------------------------------------

@pytest.mark.parametrize("base_path", ["/v1", "/api/v2"])
def test_base_path_moves_the_route(make_app, documented_example, base_path):
    client = make_app({"base_path": base_path}).test_client()
    headers = {"X-API-Key": API_KEY}
    response = client.get(base_path + DOCUMENTED, headers=headers)
    assert response.status_code == 200 and response.json == documented_example
    assert f"<http://localhost{base_path}{DOCUMENTED}?page=1" in response.headers["Link"]
    body = assert_problem(client.get(DOCUMENTED, headers=headers), 404)
    assert f"{base_path}/chatbots/{{chatbot_id}}/conversations" in body["detail"]


@pytest.mark.parametrize("setting, low, high", [("1", 1, 1), ("250", 250, 250), ("5-9", 5, 9), ("40-41", 40, 41)])
def test_conversations_setting_bounds_every_chatbot(make_app, setting, low, high):
    client = make_app({"conversations": setting}).test_client()
    totals = set()
    for n in range(12):
        chatbot = f"00000000-0000-4000-8000-{n:012d}"
        response = client.get(f"/chatbots/{chatbot}/conversations?page_size=1", headers={"X-API-Key": API_KEY})
        totals.add(int(response.headers["X-Total-Count"]))
    assert totals <= set(range(low, high + 1))
    if high - low == 4:
        assert len(totals) > 1  # the count is drawn per chatbot, not fixed


def test_default_conversation_count_is_a_few_dozen_to_a_few_hundred(get):
    totals = set()
    for n in range(20):
        response = get(f"/chatbots/00000000-0000-4000-8000-{n:012d}/conversations?page_size=1")
        totals.add(int(response.headers["X-Total-Count"]))
    assert min(totals) >= 30 and max(totals) <= 300 and len(totals) > 10


# --- determinism ----------------------------------------------------------------------------

CHATBOTS = [GENERATED_CHATBOT, "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99", "00000000-0000-4000-8000-000000000001"]


def _pages(client, chatbot):
    headers = {"X-API-Key": API_KEY}
    base = f"/chatbots/{chatbot}/conversations"
    return [client.get(base + q, headers=headers).data for q in ("", "?page=2", "?page=3&page_size=25",
                                                                  "?state=resolved&page=2")]


@pytest.mark.parametrize("chatbot", CHATBOTS)
def test_same_seed_same_bytes_across_separately_created_apps(make_app, chatbot):
    first = _pages(make_app({"seed": 42}).test_client(), chatbot)
    second = _pages(make_app({"seed": 42}).test_client(), chatbot)
    assert first == second
    assert all(json.loads(page) for page in first)


def test_default_seed_is_fixed(make_app):
    assert _pages(make_app().test_client(), GENERATED_CHATBOT) == _pages(
        make_app({"seed": 20250307}).test_client(), GENERATED_CHATBOT
    )


def test_different_seed_or_chatbot_gives_different_data(make_app):
    one = make_app({"seed": 1}).test_client()
    two = make_app({"seed": 2}).test_client()
    headers = {"X-API-Key": API_KEY}
    pages = {
        (seed, chatbot): json.loads(client.get(f"/chatbots/{chatbot}/conversations", headers=headers).data)
        for seed, client in ((1, one), (2, two))
        for chatbot in CHATBOTS
    }
    ids = [{c["id"] for c in page} for page in pages.values()]
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            assert not a & b


@pytest.mark.parametrize("chatbot", CHATBOTS + [DOCUMENTED_CHATBOT])
def test_chatbot_id_in_each_conversation_is_the_paths(get, chatbot):
    items = get(f"/chatbots/{chatbot}/conversations?page_size=100").json
    assert items and all(c["chatbot_id"] == chatbot for c in items)


@pytest.mark.parametrize("spelling", [DOCUMENTED_CHATBOT.upper(), DOCUMENTED_CHATBOT.replace("-", "")])
def test_another_spelling_of_the_uuid_names_the_same_chatbot(get, spelling):
    """A UUID is case-insensitive, dashes optional: the same chatbot answers, with the canonical id."""
    other = get(f"/chatbots/{spelling}/conversations")
    assert other.status_code == 200 and other.data == get(DOCUMENTED).data


def test_same_bytes_in_another_process_with_another_hash_seed(make_app):
    """What a gunicorn worker or another machine computes: no dependence on Python's hash seed."""
    import hashlib
    import os
    import subprocess
    import sys

    from tests.helpers import REPO

    code = (
        "import hashlib, sys\n"
        "from conversations_mock import create_app\n"
        "client = create_app({'seed': 42}).test_client()\n"
        f"for chatbot in {CHATBOTS!r}:\n"
        "    for query in ('', '?page=2', '?page=3&page_size=25', '?state=resolved&page=2'):\n"
        "        data = client.get(f'/chatbots/{chatbot}/conversations' + query,\n"
        f"                          headers={{'X-API-Key': {API_KEY!r}}}).data\n"
        "        print(hashlib.sha256(data).hexdigest())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_")}
    env["PYTHONHASHSEED"] = "12345"
    output = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            check=True, timeout=60).stdout.split()
    client = make_app({"seed": 42}).test_client()
    expected = [hashlib.sha256(page).hexdigest() for chatbot in CHATBOTS for page in _pages(client, chatbot)]
    assert output == expected
