"""Two gunicorn servers of two workers on one real Redis: an emptied Redis is a 503, never generated data."""

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.helpers import API_KEY, GENERATED_CHATBOT, only_worker, sample_conversations, worker_pids

CHATBOT = f"/chatbots/{GENERATED_CHATBOT}/conversations"
LISTING = CHATBOT + "?page_size=100"
# A second chatbot without a fixture: generated, as the first, unless a test sets it.
OTHER_CHATBOT = "9a0e7d51-64b2-4f3c-8d1e-2b5a6c7d8e9f"
# How long every worker of every server may take to notice a flush (its listener reads the epoch twice a
# second): a bound on the test, not a measurement.
NOTICE_WITHIN = 10


def call(url, method="GET", body=None, namespace=None):
    """(status, parsed body) of one request, on a new connection."""
    headers = {"X-API-Key": API_KEY, "Content-Type": "application/json",
               **({"X-Mock-Namespace": namespace} if namespace else {})}
    data = None if body is None else json.dumps(body).encode()
    try:
        request = urllib.request.Request(url, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:
            content = answer.read()
            return answer.status, json.loads(content) if content else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def answers(servers, namespace, rounds, listing=LISTING):
    """Every answer of `rounds` listing requests to each server, as (status, ids or the problem's detail)."""
    seen = []
    for _ in range(rounds):
        for server in servers:
            status, body = call(server.url + listing, namespace=namespace)
            seen.append((status, [item["id"] for item in body] if status == 200 else body["detail"]))
    return seen


def every_worker_answers(servers, namespace, listing=LISTING) -> list:
    """Every answer of a few requests to each worker of each server, that worker alone accepting meanwhile."""
    seen = []
    for server in servers:
        workers = worker_pids(server)
        for worker in workers:
            with only_worker(workers, worker):
                seen += answers([server], namespace, 3, listing)
    return seen


def until_every_worker_noticed(servers, namespace):
    """Wait (bounded) until every worker of every server answers the namespace 503 naming a loss."""
    deadline = time.monotonic() + NOTICE_WITHIN
    while True:
        seen = every_worker_answers(servers, namespace)
        if all(status == 503 and "lost" in detail for status, detail in seen) or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


@pytest.mark.parametrize("loss", ["flush", "restart"])
def test_a_redis_that_comes_back_empty_answers_503_on_every_worker_until_reset_or_set_again(
        live_server, redis_server, redis_url, loss):
    servers = [live_server("--workers", "2", MOCK_STORE=redis_url) for _ in range(2)]
    conversations = sample_conversations(GENERATED_CHATBOT, 2)
    set_ids = [item["id"] for item in reversed(conversations)]
    for namespace in ("reset-me", "set-me-again"):
        assert call(servers[0].url + "/__mock" + CHATBOT, "PUT", conversations, namespace)[0] == 204
        assert answers(servers, namespace, 4) == [(200, set_ids)] * 8
    assert call(servers[1].url + "/__mock/rate-limit", "PUT", {"rate_limit": "1000/h"}, "limited")[0] == 204
    assert call(servers[1].url + "/__mock/faults", "PUT", [{"answer": {"code": 502}}], "faulty")[0] == 204
    assert {status for status, _ in answers(servers, "faulty", 2)} == {502}
    generated = answers(servers, "untouched", 1)[0]
    assert generated[0] == 200 and len(generated[1]) > 2

    if loss == "flush":
        redis_server.client.flushall()
    else:
        redis_server.restart()

    # Until every worker has noticed, one may still answer the data set (a copy read before the loss), or
    # 503 while it reconnects to a restarted Redis; none ever answers generated data in its place.
    deadline = time.monotonic() + NOTICE_WITHIN
    while True:
        seen = every_worker_answers(servers, "reset-me")
        assert {status for status, ids in seen if ids != set_ids} <= {503}, seen
        if all(status == 503 and "lost" in detail for status, detail in seen) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    chatbot = f"chatbot {GENERATED_CHATBOT} ("
    for namespace, lost in (("reset-me", chatbot), ("set-me-again", chatbot), ("limited", "rate limit"),
                           ("faulty", "fault rules")):
        seen = every_worker_answers(servers, namespace)
        assert {status for status, _ in seen} == {503}, seen
        for _, detail in seen:
            assert f"lost this namespace's {lost}" in detail and "reset the namespace" in detail
    assert [status for status, _ in answers(servers, "untouched", 2)] == [200] * 4

    assert call(servers[1].url + "/__mock/reset", "POST", namespace="reset-me")[0] == 204
    seen = every_worker_answers(servers, "reset-me")
    assert {status for status, _ in seen} == {200}
    assert all(len(ids) > 2 for _, ids in seen)  # generated, as a namespace that set nothing

    assert call(servers[1].url + "/__mock" + CHATBOT, "PUT", conversations, "set-me-again")[0] == 204
    assert call(servers[0].url + "/__mock/requests", "DELETE", namespace="set-me-again")[0] == 204
    seen = every_worker_answers(servers, "set-me-again")
    assert {(status, tuple(ids)) for status, ids in seen} == {(200, tuple(set_ids))}
    assert all(server.stop() == 0 for server in servers)


def test_a_namespace_setting_one_of_its_lost_chatbots_again_answers_503_naming_the_other_until_it_is_set(
        live_server, redis_server, redis_url):
    servers = [live_server("--workers", "2", MOCK_STORE=redis_url) for _ in range(2)]
    sets = {GENERATED_CHATBOT: sample_conversations(GENERATED_CHATBOT, 2),
            OTHER_CHATBOT: sample_conversations(OTHER_CHATBOT, 3)}
    listings = {chatbot: f"/chatbots/{chatbot}/conversations?page_size=100" for chatbot in sets}
    controls = {chatbot: f"/__mock/chatbots/{chatbot}/conversations" for chatbot in sets}
    for chatbot, conversations in sets.items():
        assert call(servers[0].url + controls[chatbot], "PUT", conversations, "two")[0] == 204
    redis_server.client.flushall()
    seen = until_every_worker_noticed(servers, "two")
    assert {status for status, _ in seen} == {503}, seen

    again = sets[GENERATED_CHATBOT]
    assert call(servers[1].url + controls[GENERATED_CHATBOT], "PUT", again, "two")[0] == 204
    for listing in listings.values():  # the chatbot set again too: half of what the test set would mislead it
        seen = every_worker_answers(servers, "two", listing)
        assert {status for status, _ in seen} == {503}, seen
        for _, detail in seen:
            assert f"lost this namespace's chatbot {OTHER_CHATBOT} (" in detail
            assert GENERATED_CHATBOT not in detail

    other = sets[OTHER_CHATBOT]
    assert call(servers[0].url + controls[OTHER_CHATBOT], "PUT", other, "two")[0] == 204
    for chatbot, listing in listings.items():
        seen = every_worker_answers(servers, "two", listing)
        set_ids = tuple(item["id"] for item in reversed(sets[chatbot]))
        assert {(status, tuple(ids)) for status, ids in seen} == {(200, set_ids)}, seen
    assert all(server.stop() == 0 for server in servers)
