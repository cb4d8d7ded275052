"""A loss's parts, its detail, its record in Redis and how FOUND_AGAIN narrows it (app/store/losses.py)."""

import pytest

from conversations_mock.store import Loss
from conversations_mock.store.losses import FOUND_AGAIN, from_record, loss_of, parts_of, record

STORE = "redis://127.0.0.1:6390/0"
BOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
OTHER = "9a0e7d51-64b2-4f3c-8d1e-2b5a6c7d8e9f"
NEVER_LOST = "0a0a0a0a-3f57-4c2a-9f0e-5d7f1c2a9b11"
LOST_KEY = "conversations-mock:lost"


@pytest.mark.parametrize("kinds, chatbots, lost, again", [
    (("chatbots",), (BOT,), f"chatbot {BOT}", "that chatbot"),
    (("chatbots", "rate limit"), (BOT, OTHER), f"chatbots ({BOT}, {OTHER}) and rate limit",
     "those chatbots and its rate limit"),
    (("fault rules", "rate limit"), (), "fault rules and rate limit", "its fault rules and rate limit"),
    (("chatbots", "fault rules", "rate limit"), (BOT,), f"chatbot {BOT}, fault rules and rate limit",
     "that chatbot and its fault rules and rate limit"),
])
def test_a_loss_names_what_is_lost_and_how_to_recover(kinds, chatbots, lost, again):
    detail = Loss(STORE, kinds, 0.0, chatbots).detail
    assert detail.startswith(f"The store at {STORE} lost this namespace's {lost} (it came back")
    assert "noticed at 1970-01-01T00:00:00Z" in detail
    assert detail.endswith(f"reset the namespace (POST /__mock/reset) or set {again} again.")


def test_a_loss_is_its_parts_and_its_record():
    parts = frozenset({("chatbots", OTHER), ("chatbots", BOT), ("rate limit", "")})
    loss = loss_of(STORE, parts, 12.5)
    assert loss == Loss(STORE, ("chatbots", "rate limit"), 12.5, (BOT, OTHER))
    assert parts_of(loss) == parts and parts_of(None) == frozenset()
    assert loss_of(STORE, frozenset(), 1) is None
    assert from_record(STORE, record(loss)) == loss


@pytest.mark.parametrize("found, left", [
    (("chatbots", BOT), Loss(STORE, ("chatbots", "fault rules"), 12.5, (OTHER,))),
    (("chatbots", NEVER_LOST), Loss(STORE, ("chatbots", "fault rules"), 12.5, (BOT, OTHER))),
    (("fault rules", ""), Loss(STORE, ("chatbots",), 12.5, (BOT, OTHER))),
    (("rate limit", ""), Loss(STORE, ("chatbots", "fault rules"), 12.5, (BOT, OTHER))),
])
def test_found_again_narrows_the_record_by_one_part(redis_server, redis_url, found, left):
    before = Loss(STORE, ("chatbots", "fault rules"), 12.5, (BOT, OTHER))
    redis_server.client.hset(LOST_KEY, "ns", record(before))
    redis_server.client.eval(FOUND_AGAIN, 1, LOST_KEY, "ns", *found)
    assert from_record(STORE, redis_server.client.hget(LOST_KEY, "ns")) == left


def test_found_again_deletes_the_record_with_its_last_part(redis_server, redis_url):
    redis_server.client.hset(LOST_KEY, "ns", record(Loss(STORE, ("chatbots", "fault rules"), 12.5, (BOT,))))
    redis_server.client.hset(LOST_KEY, "other", record(Loss(STORE, ("rate limit",), 12.5)))
    assert redis_server.client.eval(FOUND_AGAIN, 1, LOST_KEY, "ns", "chatbots", BOT) == 1
    assert redis_server.client.hget(LOST_KEY, "ns").find(b"chatbots") == -1  # no empty list written as {}
    assert redis_server.client.eval(FOUND_AGAIN, 1, LOST_KEY, "ns", "fault rules", "") == 1
    assert redis_server.client.hkeys(LOST_KEY) == [b"other"]
    assert redis_server.client.eval(FOUND_AGAIN, 1, LOST_KEY, "nothing-lost", "rate limit", "") == 0
