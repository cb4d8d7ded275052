"""Scenarios on demand: the Prefer header and the server's latency and error-rate settings."""

import pytest

from conversations_mock.schemas.preferences import SCENARIO_CODES
from conversations_mock.web import scenarios, waits
from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, GENERATED_CHATBOT

URL = f"/chatbots/{GENERATED_CHATBOT}/conversations"
DOCUMENTED_URL = f"/chatbots/{DOCUMENTED_CHATBOT}/conversations"
ERROR_CODES = [code for code in SCENARIO_CODES if code != 200]


@pytest.fixture
def sleeps(monkeypatch):
    """Record the seconds the mock sleeps in this test's thread instead of sleeping.

    time.sleep is patched for the whole process: background threads (a store's listener) keep sleeping.
    """
    import threading

    calls, real_sleep, this_thread = [], waits.time.sleep, threading.current_thread()

    def sleep(seconds):
        if threading.current_thread() is this_thread:
            calls.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(waits.time, "sleep", sleep)
    return calls


def prefer(get, value, url=URL, **kwargs):
    return get(url, headers={"Prefer": value}, **kwargs)


@pytest.mark.parametrize("code", ERROR_CODES)
def test_code_answers_that_status_with_a_problem(get, code):
    response = prefer(get, f"code={code}")
    assert response.status_code == code
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == code
    assert f"Prefer: code={code}" in response.json["detail"]
    assert response.headers["Preference-Applied"] == f"code={code}"
    assert ("Retry-After" in response.headers) == (code in (429, 503))
    assert ("WWW-Authenticate" in response.headers) == (code == 401)


def test_retry_after_is_whole_seconds(get):
    assert prefer(get, "code=429").headers["Retry-After"] == "1"


def test_code_200_answers_the_ordinary_page(get):
    plain = get(URL)
    response = prefer(get, "code=200")
    assert response.status_code == 200
    assert response.data == plain.data
    assert response.headers["Preference-Applied"] == "code=200"


@pytest.mark.parametrize(
    "value, message",
    [
        ("code=abc", "code=abc: Must be one of: 200, 400, 401, 403, 404, 422, 429, 500, 502, 503, 504."),
        ("code=418", "code=418: Must be one of: 200, 400, 401, 403, 404, 422, 429, 500, 502, 503, 504."),
        ("delay=-1", "delay=-1: Must be a whole number of milliseconds from 0 to 60000."),
        ("delay=1.5", "delay=1.5: Must be a whole number of milliseconds from 0 to 60000."),
        ("delay=999999", "delay=999999: Must be from 0 to 60000 milliseconds."),
        ("delay=60001", "delay=60001: Must be from 0 to 60000 milliseconds."),
        ("seed=-3", "seed=-3: Must be a whole number written in digits 0-9."),
        ("seed=9223372036854775808", "seed=9223372036854775808: Must be from 0 to 9223372036854775807."),
        ("example=full", "example=full: Must be one of: empty, documented."),
        ("delay", "delay: Needs a value, e.g. delay=1000."),
        ("code=", "code=: Needs a value, e.g. code=404."),
        ("dealy=100", "dealy=100: Unknown preference; this server honours code, delay, example, seed, clock, fault, dribble and retry-after."),
        ("chaos", "chaos: Unknown preference; this server honours code, delay, example, seed, clock, fault, dribble and retry-after."),
        ("code=500, code=404", "code=404: Given more than once; send it once."),
    ],
)
def test_malformed_preferences_answer_422_naming_them(get, sleeps, value, message):
    response = prefer(get, value)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {"Prefer": [message]}
    assert message in response.json["detail"]
    assert "Preference-Applied" not in response.headers
    assert sleeps == []


def test_every_malformed_preference_is_named_at_once(get):
    response = prefer(get, "code=abc, delay=-1, example=empty")
    assert response.status_code == 422
    named = [message.split(":")[0] for message in response.json["errors"]["Prefer"]]
    assert sorted(named) == ["code=abc", "delay=-1"]


@pytest.mark.parametrize(
    "headers",
    [
        [("Prefer", "code=503,delay=20")],
        [("Prefer", "  code = 503 ,  delay=20  ")],
        [("Prefer", 'code="503", delay="20"')],
        [("Prefer", "CODE=503, Delay=20")],
        [("Prefer", "code=503"), ("Prefer", "delay=20")],
        [("Prefer", "return=minimal, code=503, respond-async, wait=5, handling=lenient, delay=20")],
        [("Prefer", "code=503; reason=test, , delay=20")],
    ],
)
def test_prefer_syntax_is_tolerated(client, sleeps, headers):
    response = client.get(URL, headers=[("X-API-Key", API_KEY), *headers])
    assert response.status_code == 503
    assert response.headers["Preference-Applied"] == "delay=20, code=503"
    assert sleeps == [0.02]


@pytest.mark.parametrize(
    "path, headers, status, field",
    [
        (URL, {"X-API-Key": "nope", "Prefer": "code=500"}, 401, None),
        (URL, {"Prefer": "code=abc"}, 401, None),
        (URL + "?page=0", {"X-API-Key": API_KEY, "Prefer": "code=500"}, 422, "page"),
        (URL + "?pagesize=5", {"X-API-Key": API_KEY, "Prefer": "delay=-1"}, 422, "pagesize"),
        ("/chatbots/nope/conversations", {"X-API-Key": API_KEY, "Prefer": "code=200"}, 422, "chatbot_id"),
    ],
)
def test_key_and_parameters_are_checked_before_preferences(client, sleeps, path, headers, status, field):
    response = client.get(path, headers={**headers, "Prefer": headers["Prefer"] + ", delay=500"})
    assert response.status_code == status
    if field:
        assert list(response.json["errors"]) == [field]
    assert "Preference-Applied" not in response.headers
    assert sleeps == []


def test_delay_waits_then_answers_normally(get, sleeps):
    plain = get(URL)
    response = prefer(get, "delay=1500")
    assert sleeps == [1.5]
    assert response.status_code == 200
    assert response.data == plain.data
    assert response.headers["Preference-Applied"] == "delay=1500"


def test_example_empty_is_an_empty_first_and_last_page(get):
    response = prefer(get, "example=empty", url=URL + "?page=3&state=resolved")
    assert response.status_code == 200
    assert response.json == []
    assert response.headers["X-Total-Count"] == "0"
    assert response.headers["Preference-Applied"] == "example=empty"
    assert 'page=1&page_size=10&state=resolved>; rel="last"' in response.headers["Link"]
    assert 'rel="next"' not in response.headers["Link"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", slice(0, 10)),
        ("?page=2&page_size=3", slice(3, 6)),
        ("?page=4&page_size=3", slice(9, 10)),
        ("?page=5&page_size=3", slice(0, 0)),
    ],
)
def test_example_documented_pages_the_documents_ten_for_any_chatbot(get, documented_example, query, expected):
    response = prefer(get, "example=documented", url=URL + query)
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "10"
    assert response.headers["Preference-Applied"] == "example=documented"
    assert response.json == [
        {**conversation, "chatbot_id": GENERATED_CHATBOT} for conversation in documented_example[expected]
    ]


@pytest.mark.parametrize("state", ["in_progress", "resolved", "closed"])
def test_example_documented_filters_by_state(get, documented_example, state):
    response = prefer(get, "example=documented", url=f"{URL}?state={state}&page_size=100")
    matching = [c for c in documented_example if c["state"] == state]
    assert response.headers["X-Total-Count"] == str(len(matching))
    assert [c["id"] for c in response.json] == [c["id"] for c in matching]


@pytest.mark.parametrize("seed", [0, 7, 2**63 - 1])
def test_seed_generates_what_a_server_with_that_seed_serves(get, make_app, seed):
    expected = make_app({"seed": seed}).test_client().get(URL + "?page=2", headers={"X-API-Key": API_KEY})
    response = prefer(get, f"seed={seed}", url=URL + "?page=2")
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == f"seed={seed}"
    assert response.headers["X-Total-Count"] == expected.headers["X-Total-Count"]
    assert response.json == expected.json
    assert response.json != get(URL + "?page=2").json


def test_only_honoured_preferences_are_echoed(get, documented_example):
    # A listed chatbot is the same whatever the seed; an error answer carries no data.
    listed = prefer(get, "seed=7", url=DOCUMENTED_URL)
    assert listed.json == documented_example
    assert "Preference-Applied" not in listed.headers
    failed = prefer(get, "code=404, example=empty, seed=7")
    assert failed.headers["Preference-Applied"] == "code=404"
    assert prefer(get, "example=empty, seed=7").headers["Preference-Applied"] == "example=empty"


def test_requests_without_prefer_are_untouched(get):
    response = get(URL)
    assert "Preference-Applied" not in response.headers
    assert "Prefer" not in response.headers.get("Vary", "")
    assert prefer(get, "seed=1").headers["Vary"] == "Prefer"


@pytest.mark.parametrize(
    "value, status",
    [("code=503", 503), ("code=200", 200), ("delay=-1", 422), ("dealy=5", 422), ("seed=7", 200), ("example=empty", 200)],
)
def test_every_answer_a_preference_shaped_varies_by_prefer(get, sleeps, value, status):
    # A cache must not hand this answer to a request with another Prefer header, or none.
    response = prefer(get, value, url=DOCUMENTED_URL)
    assert response.status_code == status
    assert "Prefer" in [part.strip() for part in response.headers.get("Vary", "").split(",")]


def test_only_ignored_preferences_leave_vary_alone(get):
    response = prefer(get, "return=minimal, respond-async")
    assert response.status_code == 200 and "Prefer" not in response.headers.get("Vary", "")


def _statuses(client, paths, **headers):
    return [client.get(path, headers={"X-API-Key": API_KEY, **headers}).status_code for path in paths]


def test_error_rate_draws_per_attempt_and_a_run_replays_exactly(make_app, sleeps):
    paths = [f"{URL}?page={page}" for page in range(1, 41)]

    def run(config):
        client = make_app(config).test_client()  # a new server: its store counts from the first attempt
        return [_statuses(client, paths) for _ in range(3)]

    first = run({"error_rate": "0.5"})
    assert set(first[0]) == {200, 500}
    assert 8 <= first[0].count(500) <= 32
    assert first[1] != first[0] and first[2] != first[1]  # each attempt draws anew
    assert run({"error_rate": "0.5"}) == first  # the same seed replays the whole run
    assert run({"error_rate": "0.5", "seed": 1}) != first
    assert sleeps == []


def test_retrying_clients_recover_under_the_error_rate(erring_app, sleeps):
    """The issue's finding reversed: of 40 requests under 0.3, each retried up to 4 times, most recover."""
    client = erring_app.test_client()
    outcomes = []
    for page in range(1, 41):
        statuses = []
        while len(statuses) < 5 and (not statuses or statuses[-1] != 200):
            statuses.append(client.get(f"{URL}?page={page}", headers={"X-API-Key": API_KEY}).status_code)
        outcomes.append(statuses)
    failed_first = [statuses for statuses in outcomes if statuses[0] != 200]
    never = [statuses for statuses in outcomes if statuses[-1] != 200]
    assert len(failed_first) >= 6  # about 0.3 of 40
    assert len(never) <= 1  # 0.3 ** 5 of 40: none expected, where 13 of 40 failed every attempt before


@pytest.fixture(params=["fast", "flask"])
def erring_app(request, make_app, make_flask_app):
    """Both app variants (as tests/conftest.py's any_app), under an error rate of 0.3."""
    return (make_app if request.param == "fast" else make_flask_app)({"error_rate": "0.3"})


@pytest.mark.parametrize("statuses", ["503,429", "502, 504", "429"])
def test_error_status_chooses_what_the_error_rate_answers(make_app, statuses):
    client = make_app({"error_rate": "1", "error_status": statuses}).test_client()
    chosen = {int(status) for status in statuses.split(",")}
    answers = [client.get(f"{URL}?page={page}", headers={"X-API-Key": API_KEY}) for page in range(1, 21)]
    assert {response.status_code for response in answers} == chosen
    for response in answers:
        assert response.content_type == "application/problem+json"
        assert f"error_status {response.status_code}" in response.json["detail"]
        expected = "1" if response.status_code in (429, 503) else None
        assert response.headers.get("Retry-After") == expected


def test_injected_failure_says_where_it_comes_from_and_prefer_overrides_it(make_app):
    client = make_app({"error_rate": "1"}).test_client()
    failed = client.get(URL, headers={"X-API-Key": API_KEY})
    assert failed.status_code == 500
    assert failed.content_type == "application/problem+json"
    assert "error_rate setting (1)" in failed.json["detail"]
    assert "Prefer: code=200" in failed.json["detail"]
    assert client.get(URL, headers={"X-API-Key": API_KEY, "Prefer": "code=200"}).status_code == 200
    assert client.get(URL, headers={"X-API-Key": API_KEY, "Prefer": "code=404"}).status_code == 404
    assert client.get(URL + "?page=0", headers={"X-API-Key": API_KEY}).status_code == 422


@pytest.mark.parametrize("latency, low, high, distinct", [("250", 0.25, 0.25, 1), ("100-200", 0.1, 0.2, 6)])
def test_latency_is_drawn_per_request_and_repeats(make_app, sleeps, latency, low, high, distinct):
    client = make_app({"latency": latency}).test_client()
    paths = [f"{URL}?page={page}" for page in range(1, 21)]
    assert _statuses(client, paths) == [200] * 20
    assert _statuses(client, paths) == [200] * 20
    assert sleeps[:20] == sleeps[20:]
    assert all(low <= seconds <= high for seconds in sleeps)
    assert len(set(sleeps)) >= distinct


def test_prefer_delay_overrides_latency(make_app, sleeps):
    client = make_app({"latency": "100-200"}).test_client()
    response = client.get(URL, headers={"X-API-Key": API_KEY, "Prefer": "delay=0"})
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "delay=0"
    assert sleeps == [0]
