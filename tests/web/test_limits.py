"""The rate limit (web/limits.py): budgets per key and namespace, headers, 429s, and /__mock/rate-limit."""

import pytest

from conversations_mock.schemas.limits import Rate
from conversations_mock.web.limits import HEADERS, LIMITS, rate_limit_headers, seconds_left
from tests.helpers import API_KEY, GENERATED_LISTING, requests_behind

OTHER_KEY = "0" * 48
T0 = 1_765_000_000_000  # ms: the tests' clock, which the app's Limits read instead of the store's
ORIGIN = "http://localhost:5173"


@pytest.mark.parametrize("left_ms, seconds", [
    (1, 1), (999, 1), (1000, 1), (1001, 2), (59_001, 60), (60_000, 60),
])
def test_seconds_left_are_rounded_up_so_a_client_that_waits_them_finds_the_next_window(left_ms, seconds):
    assert seconds_left(left_ms) == seconds


@pytest.mark.parametrize("used, remaining", [(1, 99), (100, 0), (250, 0)])
def test_the_headers_give_the_draft_fields_and_the_x_triple(used, remaining):
    assert rate_limit_headers(Rate(100, 60), used, 16_200) == [
        ("RateLimit-Policy", '"default";q=100;w=60'),
        ("RateLimit", f'"default";r={remaining};t=17'),
        ("X-RateLimit-Limit", "100"),
        ("X-RateLimit-Remaining", str(remaining)),
        ("X-RateLimit-Reset", "17"),
    ]


@pytest.fixture
def clock():
    """The limited app's clock, in ms; a test moves it forward instead of sleeping."""
    return [T0]


@pytest.fixture(params=["fast", "flask"])
def limited(request, make_app, make_flask_app, clock):
    """Make an app (fast path on, or every request through Flask) whose rate limit reads `clock`."""

    def _make(config=None):
        app = (make_app if request.param == "fast" else make_flask_app)(config)
        app.extensions[LIMITS].clock = lambda: clock[0]
        return app

    return _make


def send(app, namespace=None, key=API_KEY, path=GENERATED_LISTING, **headers):
    headers = {"X-API-Key": key, **({"X-Mock-Namespace": namespace} if namespace else {}), **headers}
    return app.test_client().get(path, headers=headers)


def limit_of(response):
    """(status, RateLimit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After) of an answer."""
    headers = response.headers
    return (response.status_code, headers.get("RateLimit"), headers.get("X-RateLimit-Remaining"),
            headers.get("X-RateLimit-Reset"), headers.get("Retry-After"))


def test_past_the_budget_a_key_is_refused_with_429_until_the_window_ends(limited, clock):
    app = limited({"rate_limit": "3/min"})
    seen = []
    for step in (0, 1000, 2000, 2500):
        clock[0] = T0 + step
        seen.append(limit_of(send(app)))
    assert seen == [
        (200, '"default";r=2;t=60', "2", "60", None),  # the first request opens the key's window
        (200, '"default";r=1;t=59', "1", "59", None),
        (200, '"default";r=0;t=58', "0", "58", None),
        (429, '"default";r=0;t=58', "0", "58", "58"),  # 57.5 s left: rounded up
    ]


def test_a_key_that_comes_back_before_retry_after_is_refused_again_and_passes_after_it(limited, clock):
    app = limited({"rate_limit": "2/s"})
    send(app), send(app)
    clock[0] = T0 + 400
    refused = send(app)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.content_type == "application/problem+json"
    assert "2/s" in refused.json["detail"] and "--rate-limit" in refused.json["detail"]
    clock[0] = T0 + 999  # back early, again and again: refused each time, the window unmoved
    assert [limit_of(send(app))[0] for _ in range(3)] == [429, 429, 429]
    clock[0] = T0 + 400 + 1000  # Retry-After elapsed
    assert limit_of(send(app)) == (200, '"default";r=1;t=1', "1", "1", None)


def test_the_fast_path_answers_a_limited_keys_repeats_with_the_same_headers(make_app, clock):
    app = make_app({"rate_limit": "5/s"})
    app.extensions[LIMITS].clock = lambda: clock[0]
    first = send(app)  # the view admits the key, path and query, and teaches the fast path
    behind = requests_behind(app, "fast")
    repeats = [send(app) for _ in range(3)]
    assert behind == []  # the repeats never reached Flask
    assert [r.headers["X-RateLimit-Remaining"] for r in (first, *repeats)] == ["4", "3", "2", "1"]
    assert [name for name, _ in first.headers if "RateLimit" in name] == [
        name for name, _ in repeats[0].headers if "RateLimit" in name]
    assert send(app).status_code == 200 and send(app).status_code == 429  # the refusal: Flask's problem
    assert behind == [GENERATED_LISTING]


def test_keys_and_namespaces_have_budgets_of_their_own(limited):
    app = limited({"rate_limit": "1/h"})
    assert [limit_of(send(app, *args))[0] for args in [(), (), ("a",), ("a",)]] == [200, 429, 200, 429]
    assert send(app, key=OTHER_KEY).status_code == 200
    assert send(app, path=f"/__mock/ns/b{GENERATED_LISTING}").status_code == 200  # a namespace's prefix


def test_errors_decided_after_the_limit_carry_its_headers_and_count(limited):
    app = limited({"rate_limit": "3/min"})
    answered = send(app, Prefer="code=503")
    assert answered.status_code == 503 and answered.headers["X-RateLimit-Remaining"] == "2"
    assert answered.headers["RateLimit-Policy"] == '"default";q=3;w=60'
    assert send(app, Prefer="code=404").headers["X-RateLimit-Remaining"] == "1"
    malformed = send(app, Prefer="code=abc")  # refused by a later decider, after the limit counted it
    assert malformed.status_code == 422 and malformed.headers["X-RateLimit-Remaining"] == "0"


@pytest.mark.parametrize("key, query, status", [("bad", "", 401), (API_KEY, "?page=0", 422)])
def test_requests_refused_before_the_limit_neither_count_nor_carry_its_headers(limited, key, query, status):
    app = limited({"rate_limit": "1/min"})
    refused = app.test_client().get(GENERATED_LISTING + query, headers={"X-API-Key": key})
    assert refused.status_code == status and "RateLimit" not in refused.headers
    assert limit_of(send(app))[:3] == (200, '"default";r=0;t=60', "0")  # its budget was whole
    assert send(app).status_code == 429


def test_without_a_limit_no_answer_carries_rate_limit_headers(limited):
    answered = send(limited())
    assert answered.status_code == 200
    assert not [name for name in answered.headers.keys() if "ratelimit" in name.lower()]


def test_a_browser_script_may_read_the_headers(limited):
    answered = send(limited({"rate_limit": "3/s"}), Origin=ORIGIN)
    exposed = {name.strip().lower() for name in answered.headers["Access-Control-Expose-Headers"].split(",")}
    for name in HEADERS:
        assert name in answered.headers and name.lower() in exposed


# -- /__mock/rate-limit: a namespace's own limit ------------------------------------------------------------


def control(app, method, namespace="a", **kwargs):
    headers = {"X-Mock-Namespace": namespace}
    return app.test_client().open("/__mock/rate-limit", method=method, headers=headers, **kwargs)


def test_a_namespace_gets_its_own_limit_from_the_next_request_on(limited):
    app = limited()
    assert control(app, "GET").json == {"rate_limit": None, "source": "server"}
    assert send(app, "a").status_code == 200
    assert control(app, "PUT", json={"rate_limit": "1/min"}).status_code == 204
    assert control(app, "GET").json == {"rate_limit": "1/min", "source": "namespace"}
    assert [send(app, "a").status_code for _ in range(2)] == [200, 429]
    assert [send(app, "b").status_code for _ in range(2)] == [200, 200]  # other namespaces unlimited


def test_null_lifts_the_servers_limit_in_one_namespace_and_delete_restores_it(limited):
    app = limited({"rate_limit": "1/min"})
    assert control(app, "GET").json == {"rate_limit": "1/min", "source": "server"}
    assert control(app, "PUT", json={"rate_limit": None}).status_code == 204
    assert control(app, "GET").json == {"rate_limit": None, "source": "namespace"}
    assert [limit_of(send(app, "a"))[:2] for _ in range(3)] == [(200, None)] * 3
    assert control(app, "DELETE").status_code == 204
    assert [send(app, "a").status_code for _ in range(2)] == [200, 429]


@pytest.mark.parametrize("undo", ["reset", "put"])
def test_reset_and_a_new_limit_start_the_namespaces_budgets_afresh(limited, undo):
    app = limited({"rate_limit": "1/h"})
    assert [send(app, "a").status_code for _ in range(2)] == [200, 429]
    if undo == "reset":
        assert app.test_client().post("/__mock/reset", headers={"X-Mock-Namespace": "a"}).status_code == 204
    else:
        assert control(app, "PUT", json={"rate_limit": "1/h"}).status_code == 204
    assert [send(app, "a").status_code for _ in range(2)] == [200, 429]


@pytest.mark.parametrize("body, status, field", [
    ({"rate_limit": "3/day"}, 422, "rate_limit"),
    ({"rate_limit": 3}, 422, "rate_limit"),
    ({"rate_limit": "0/s"}, 422, "rate_limit"),
    ({}, 422, "rate_limit"),
    ({"rate_limit": "3/s", "burst": 5}, 422, "burst"),
    (["3/s"], 422, "body"),
    ("{", 400, None),
    ("", 400, None),
])
def test_a_refused_limit_names_what_is_wrong_and_the_one_in_force_stays(limited, body, status, field):
    app = limited()
    control(app, "PUT", json={"rate_limit": "5/min"})
    sent = {"data": body} if isinstance(body, str) else {"json": body}
    refused = control(app, "PUT", **sent)
    assert refused.status_code == status and refused.content_type == "application/problem+json"
    if field:
        assert field in refused.json["errors"]
    assert control(app, "GET").json == {"rate_limit": "5/min", "source": "namespace"}


def test_the_resource_answers_under_a_namespaces_path_prefix(limited):
    app = limited()
    client = app.test_client()
    assert client.put("/__mock/ns/c/__mock/rate-limit", json={"rate_limit": "2/s"}).status_code == 204
    assert control(app, "GET", namespace="c").json == {"rate_limit": "2/s", "source": "namespace"}
