"""web/rules.py: the namespace's fault rules as the third decider: first that applies, times, rate, match."""

import pytest

from conversations_mock.schemas import PageQuery
from conversations_mock.web.answers import ANSWERS, Context, Decision
from conversations_mock.web.conversations import ROUTE
from conversations_mock.web.namespaces import NAMESPACE_KEY
from conversations_mock.web.rules import RULES
from tests.helpers import API_KEY, GENERATED_CHATBOT, GENERATED_LISTING

FAULTS = "/__mock/faults"
OTHER_CHATBOT = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"


@pytest.fixture
def decide(app):
    """Ask the app's rules decider about one API request; its Decision (a fresh one unless given)."""
    rules = app.extensions[RULES]

    def _decide(chatbot_id=GENERATED_CHATBOT, namespace="default", decision=None, **query):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/chatbots/{chatbot_id}/conversations",
                   "QUERY_STRING": "&".join(f"{k}={v}" for k, v in query.items()),
                   "HTTP_X_API_KEY": API_KEY, NAMESPACE_KEY: namespace}
        decision = decision or Decision()
        if rules.wanted(environ):
            context = Context(environ, app.config["SETTINGS"], rules.store, ROUTE,
                              {"chatbot_id": chatbot_id}, PageQuery(**query))
            rules.decide(context, decision)
        return decision

    return _decide


def put(app, rules, namespace="default"):
    answered = app.test_client().put(FAULTS, json=rules, headers={"X-Mock-Namespace": namespace})
    assert answered.status_code == 204, answered.json


def test_the_rules_are_registered_third_after_the_limits_and_prefer(app):
    names = [decider.name for decider in app.extensions[ANSWERS].deciders]
    assert names[names.index("prefer") + 1] == "rules"


def test_no_rules_decide_nothing(app, decide):
    assert decide() == Decision()
    put(app, [])
    assert decide() == Decision()


def test_503_twice_then_the_page(app, decide):
    put(app, [{"times": 2, "answer": {"code": 503, "retry_after": 1}}])
    first, second, third = decide(), decide(), decide()
    assert (first.code, first.retry_after, first.source) == (503, 1, "rule")
    assert "fault rule [0] of namespace 'default'" in first.detail and "Retry after 1 second." in first.detail
    assert second.code == 503 and third == Decision()
    assert app.test_client().get(FAULTS).json[0]["times_left"] == 0


def test_the_first_rule_that_applies_answers_and_a_spent_one_leaves_it_to_the_next(app, decide):
    put(app, [{"times": 1, "answer": {"code": 429}}, {"times": 1, "answer": {"fault": "empty-response"}},
              {"answer": {"code": 500, "delay": 20}}])
    assert [(d.code, d.fault, d.delay_ms) for d in (decide(), decide(), decide(), decide())] == [
        (429, None, None), (None, "empty-response", None), (500, None, 20), (500, None, 20)]


@pytest.mark.parametrize("match, request_, applies", [
    ({"chatbot_id": GENERATED_CHATBOT}, {}, True),
    ({"chatbot_id": OTHER_CHATBOT}, {}, False),
    ({"page": 1}, {}, True),  # a request without page= asks for page 1
    ({"page": 2}, {"page": 2}, True),
    ({"page": 2}, {"page": 3}, False),
    ({"state": "closed"}, {"state": "closed"}, True),
    ({"state": "closed"}, {}, False),
    ({"state": "closed", "page": 2}, {"state": "closed", "page": 1}, False),
])
def test_a_rule_applies_where_every_field_of_its_match_holds(app, decide, match, request_, applies):
    put(app, [{"match": match, "times": 1, "answer": {"code": 502}}])
    assert (decide(**request_).code == 502) is applies
    assert app.test_client().get(FAULTS).json[0]["times_left"] == (0 if applies else 1)


@pytest.mark.parametrize("answer, expected", [
    ({"code": 503}, {"code": 503, "retry_after": None}),
    ({"code": 504, "delay": 1500}, {"code": 504, "delay_ms": 1500}),
    ({"delay": 1500}, {"delay_ms": 1500}),
    ({"dribble": 2000}, {"dribble_ms": 2000}),
    ({"fault": "truncated-body"}, {"fault": "truncated-body", "source": "rule"}),
])
def test_each_answer_goes_into_the_decision(app, decide, answer, expected):
    put(app, [{"answer": answer}])
    decision = decide()
    assert {name: getattr(decision, name) for name in expected} == expected


def test_a_request_already_answered_by_its_prefer_header_takes_nothing(app, decide):
    put(app, [{"times": 2, "answer": {"code": 503}}])
    asked = Decision()
    asked.settle("prefer", code=200)
    assert decide(decision=asked).code == 200
    assert app.test_client().get(FAULTS).json[0]["times_left"] == 2


def test_rules_are_per_namespace(app, decide):
    put(app, [{"answer": {"code": 500}}], namespace="team-a")
    assert decide(namespace="team-a").code == 500
    assert decide() == Decision() and decide(namespace="team-b") == Decision()


def test_a_rate_picks_attempts_of_one_request_and_replays_after_a_reset(app, decide):
    put(app, [{"rate": 0.5, "answer": {"code": 503}}])
    run = [decide().code for _ in range(30)]
    assert set(run) == {503, None}  # a retry of a picked request may pass, and one that passed may fail
    assert 8 < run.count(503) < 22
    app.test_client().post("/__mock/reset")
    put(app, [{"rate": 0.5, "answer": {"code": 503}}])
    assert [decide().code for _ in range(30)] == run


def test_a_rate_with_times_spends_only_on_the_attempts_it_picks(app, decide):
    put(app, [{"rate": 0.5, "times": 3, "answer": {"code": 503}}])
    run = [decide().code for _ in range(40)]
    assert run.count(503) == 3 and run[:3] != [503] * 3  # not the first three: the ones drawn
    assert app.test_client().get(FAULTS).json[0]["times_left"] == 0


def test_a_put_is_seen_by_the_next_request(app, decide):
    assert decide() == Decision()
    put(app, [{"answer": {"code": 500}}])
    assert decide().code == 500
    app.test_client().delete(FAULTS)
    assert decide() == Decision()


# -- as a client sees it: the view and the fast path alike ---------------------------------------------


@pytest.mark.parametrize("warm", [False, True], ids=["first-request", "repeats"])
def test_503_twice_then_200_from_a_plain_client(any_app, warm):
    client = any_app.test_client()
    if warm:  # the fast path has learnt the key, path and query: repeats are answered there
        assert client.get(GENERATED_LISTING, headers={"X-API-Key": API_KEY}).status_code == 200
    assert client.put(FAULTS, json=[{"times": 2, "answer": {"code": 503, "retry_after": 1}}]).status_code == 204
    answers = [client.get(GENERATED_LISTING, headers={"X-API-Key": API_KEY}) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [503, 503, 200]
    assert answers[0].content_type == "application/problem+json"
    assert answers[0].headers["Retry-After"] == "1" and "fault rule [0]" in answers[0].json["detail"]
    assert len(answers[2].json) == 10


def test_an_app_given_only_a_base_url_gets_its_namespaces_failures(any_app):
    client = any_app.test_client()
    base = "/__mock/ns/mobile-app"
    client.put(base + FAULTS, json=[{"times": 1, "answer": {"code": 500}}])
    assert client.get(GENERATED_LISTING, headers={"X-API-Key": API_KEY}).status_code == 200  # default: none
    statuses = [client.get(base + GENERATED_LISTING, headers={"X-API-Key": API_KEY}).status_code
                for _ in range(2)]
    assert statuses == [500, 200]


@pytest.mark.parametrize("path, headers, status", [
    (GENERATED_LISTING, {}, 401),  # no key
    ("/chatbots/not-a-uuid/conversations", {"X-API-Key": API_KEY}, 422),
    (GENERATED_LISTING + "?page=0", {"X-API-Key": API_KEY}, 422),
])
def test_rules_apply_only_after_the_key_path_and_query_are_checked(any_app, path, headers, status):
    client = any_app.test_client()
    client.put(FAULTS, json=[{"times": 1, "answer": {"code": 503}}])
    assert client.get(path, headers=headers).status_code == status
    assert client.get(FAULTS).json[0]["times_left"] == 1  # a refused request took nothing
    assert client.get("/openapi.json").status_code == 200  # nor a request to anything but the API
    assert client.get(FAULTS).json[0]["times_left"] == 1


def test_a_refused_put_leaves_the_rules_in_force_answering(any_app):
    client = any_app.test_client()
    client.put(FAULTS, json=[{"answer": {"code": 502}}])
    assert client.put(FAULTS, json=[{"answer": {"fault": "timeout"}}]).status_code == 422
    assert client.get(GENERATED_LISTING, headers={"X-API-Key": API_KEY}).status_code == 502


def test_a_rate_draws_per_attempt_so_retries_recover_and_a_run_replays(any_app):
    client = any_app.test_client()
    rules = [{"rate": 0.5, "answer": {"code": 503}}]

    def run():
        client.post("/__mock/reset")
        client.put(FAULTS, json=rules)
        return [client.get(GENERATED_LISTING, headers={"X-API-Key": API_KEY}).status_code for _ in range(24)]

    first = run()
    assert set(first) == {200, 503} and first == run()
    assert any(a == 503 and b == 200 for a, b in zip(first, first[1:]))  # a retry of a failed request passes
