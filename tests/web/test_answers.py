"""web/answers.py: one place decides what answers an API request, and both answer paths run it."""

from dataclasses import replace

import pytest

from conversations_mock.web import conversations
from conversations_mock.web.answers import Decider, Decision, answers_for
from conversations_mock.web.problems import Problem
from tests.helpers import API_KEY, requests_behind

REFUSED = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
ALLOWED = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
PATH = "/chatbots/{}/conversations"


def _forbid(context, decision):
    """A check a view might make: this key may not read REFUSED's conversations."""
    if context.values["chatbot_id"] == REFUSED:
        raise Problem(403)


def _stamp(context, decision):
    """An answerer adding a header to whatever answers."""
    decision.headers.append(("X-Checked", context.values["chatbot_id"]))


@pytest.fixture
def checked_route(monkeypatch):
    """The conversations route declared with two more deciders (before the app is made)."""
    route = replace(conversations.ROUTE, deciders=(Decider("forbid", _forbid), Decider("stamp", _stamp)))
    monkeypatch.setattr(conversations, "ROUTE", route)
    return route


def test_a_route_s_deciders_hold_on_the_first_request_and_on_repeats(checked_route, any_app):
    behind = requests_behind(any_app, "fast") if "fast" in any_app.extensions["layers"] else None
    client = any_app.test_client()
    headers = {"X-API-Key": API_KEY}
    allowed = [client.get(PATH.format(ALLOWED) + f"?page={n % 2 + 1}", headers=headers) for n in range(4)]
    refused = [client.get(PATH.format(REFUSED) + f"?page={n % 2 + 1}", headers=headers) for n in range(4)]
    assert [response.status_code for response in allowed] == [200] * 4
    assert [response.headers.get("X-Checked") for response in allowed] == [ALLOWED] * 4
    assert [response.status_code for response in refused] == [403] * 4
    assert all(response.content_type == "application/problem+json" for response in refused)
    if behind is not None and any_app.extensions["layers"]["fast"].enabled:
        # The fast path answered the repeats itself (so it ran the deciders): only the first and the 403s reached Flask.
        assert len(behind) == 1 + 4


def test_deciders_run_in_order_and_the_first_to_settle_wins():
    seen = []

    def settle(name, code):
        def decide(context, decision):
            seen.append(name)
            decision.headers.append(("X-By", name))
            decision.settle(name, code=code, retry_after=7)
        return Decider(name, decide)

    answers = answers_for({"latency": (0, 0), "error_rate": 0}, None,
                          limits=(settle("limits", 429),), rules=(settle("rules", 503),))
    route = replace(conversations.ROUTE, deciders=(settle("route", 403),))
    decision = answers.decide({}, route, {"chatbot_id": ALLOWED}, None)
    assert seen == ["limits", "route", "rules"]  # Prefer wants no request without the header
    assert (decision.code, decision.source, decision.retry_after) == (429, "limits", 7)
    assert decision.headers == [("X-By", "limits"), ("X-By", "route"), ("X-By", "rules")]


def test_nothing_configured_decides_nothing_and_a_request_is_decided_once():
    answers = answers_for({"latency": (0, 0), "error_rate": 0}, None)
    route = conversations.ROUTE
    assert answers.decide({}, route, {}, None) is None
    environ = {"HTTP_PREFER": "code=503, retry-after=3"}
    decision = answers.decide(environ, route, {}, None)
    assert decision == Decision(code=503, retry_after=3, source="prefer", applied=["code=503", "retry-after=3"],
                                preferences={"code": 503, "retry_after": 3})
    environ["HTTP_PREFER"] = "code=404"  # not read again: the first decision stands for the request
    assert answers.decide(environ, route, {}, None) is decision
