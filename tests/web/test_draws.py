"""Draws per attempt (web/draws.py): the k-th identical request takes the k-th draw, so retries draw anew."""

import pytest

from conversations_mock.store.embedded import EmbeddedStore
from conversations_mock.web.draws import attempt, draw, identity, picked
from conversations_mock.web.namespaces import NAMESPACE_KEY
from tests.helpers import API_KEY


@pytest.fixture
def store():
    made = EmbeddedStore()
    yield made
    made.close()


def environ(query="page=1", namespace="default", key=API_KEY):
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/chatbots/0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11/conversations",
        "QUERY_STRING": query,
        "HTTP_X_API_KEY": key,
        NAMESPACE_KEY: namespace,
    }


def test_identical_requests_count_their_attempts_once_each(store):
    first, second = environ(), environ()
    assert [attempt(store, first), attempt(store, first), attempt(store, second)] == [1, 1, 2]
    assert attempt(store, environ(query="page=2")) == 1
    assert attempt(store, environ(namespace="other")) == 1
    assert attempt(store, environ(key="f" * 48)) == 1


def test_a_draw_depends_on_seed_attempt_and_purpose_only():
    who = identity(environ())
    assert draw(7, who, 3, "rule 0") == draw(7, who, 3, "rule 0")
    others = {draw(8, who, 3, "rule 0"), draw(7, who, 4, "rule 0"), draw(7, who, 3, "rule 1")}
    assert draw(7, who, 3, "rule 0") not in others and len(others) == 3


def test_retries_of_a_picked_request_recover_and_the_share_holds():
    who = identity(environ())
    picks = [draw(7, who, k, "error-rate") < 0.3 for k in range(1, 2001)]
    assert 0.25 < sum(picks) / len(picks) < 0.35
    # Every picked attempt is followed, within a few retries, by one that is not.
    assert all(not all(picks[k:k + 8]) for k in range(len(picks) - 8))


def test_picked_replays_after_a_reset_and_counts_nothing_at_0_or_1(store):
    run = [picked(store, environ(), 7, 0.5, "rule 0") for _ in range(20)]
    assert True in run and False in run
    store.reset("default")
    assert [picked(store, environ(), 7, 0.5, "rule 0") for _ in range(20)] == run
    store.reset("default")
    assert picked(store, environ(), 7, 1.0, "x") and not picked(store, environ(), 7, 0.0, "x")
    assert attempt(store, environ()) == 1  # neither counted an attempt
