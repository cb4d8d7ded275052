"""Three servers on one Redis behind nginx, as compose.yaml and deploy/k8s/ run them: what one writes all
serve, a server stopped mid-burst loses no request, and a paused Redis is a 503 until it returns."""

import json
import re
import threading
import time
import urllib.error
import urllib.request

import pytest

from conversations_mock.store.redis import RedisStore
from tests.helpers import API_KEY, GENERATED_CHATBOT, sample_conversations

PAGE = f"/chatbots/{GENERATED_CHATBOT}/conversations"
CONVERSATION = {
    "id": "9f0c3c1e-2b7a-4c55-8d0e-1a2b3c4d5e6f", "chatbot_id": GENERATED_CHATBOT, "platform": "web",
    "sns_user_id": "0e8a3e55-2f3c-4d5e-8f9a-0b1c2d3e4f50", "user_id": None, "state": "resolved", "active": False,
    "is_human_mode": False, "last_message": None, "metadata": {"anonymous": True}, "voice_path": None,
    "created_at": "2025-03-07 06:00:00", "updated_at": "2025-03-07 06:05:00",
}


def get(url, headers=None, timeout=10):
    """(status, body) of a GET with the API key."""
    request = urllib.request.Request(url, headers={"X-API-Key": API_KEY, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _worker_pids(server) -> set:
    return {int(pid) for pid in re.findall(r"worker (\d+) ready", server.log())}


def test_nginx_takes_turns_among_the_three_servers(cluster):
    answers = [get(cluster.nginx.url + PAGE) for _ in range(60)]
    assert {status for status, _ in answers} == {200} and len({body for _, body in answers}) == 1
    deadline = time.monotonic() + 5  # a line is logged just after its answer is sent
    while sum(served := [server.log().count(PAGE) for server in cluster.servers]) < 60:
        assert time.monotonic() < deadline, served
        time.sleep(0.05)
    assert min(served) >= 10, served


def test_every_server_serves_what_was_written_through_another(cluster):
    store = RedisStore(cluster.store_url)
    store.put_chatbot("default", GENERATED_CHATBOT, json.dumps([CONVERSATION]).encode())
    answers = [get(cluster.nginx.url + PAGE) for _ in range(60)]
    store.close()
    assert all(json.loads(body) == [CONVERSATION] for _, body in answers)


def test_a_put_through_nginx_is_seen_by_every_following_get_in_its_namespace_only(cluster):
    conversations = sample_conversations(GENERATED_CHATBOT, 4)
    headers = {"Content-Type": "application/json", "X-Mock-Namespace": "team-a"}
    put = urllib.request.Request(cluster.nginx.url + "/__mock" + PAGE, data=json.dumps(conversations).encode(),
                                 method="PUT", headers=headers)
    with urllib.request.urlopen(put, timeout=10) as response:
        assert response.status == 204
    expected = [c["id"] for c in reversed(conversations)]  # newest first
    seen = [get(cluster.nginx.url + PAGE, {"X-Mock-Namespace": "team-a"}) for _ in range(60)]
    assert all(status == 200 and [c["id"] for c in json.loads(body)] == expected for status, body in seen)
    for other in ({"X-Mock-Namespace": "team-b"}, {}):  # another namespace, and the default one
        status, body = get(cluster.nginx.url + PAGE, other)
        assert status == 200 and not {c["id"] for c in json.loads(body)} & set(expected)


def test_the_journal_holds_the_requests_every_server_received(cluster):
    for _ in range(30):
        assert get(cluster.nginx.url + PAGE, {"X-Mock-Namespace": "cluster"})[0] == 200
    store = RedisStore(cluster.store_url)
    assert len(store.journal("cluster", path=PAGE)) == 30
    store.close()
    for server in cluster.servers:  # the journal read from any one server lists what all three served
        status, body = get(server.url + "/__mock/requests?path=" + PAGE, {"X-Mock-Namespace": "cluster"})
        entries = json.loads(body)
        assert status == 200 and len(entries) == 30
        answered_by = {entry["worker"] for entry in entries}
        # Each server's workers said their pids when ready: every server answered some of the 30.
        assert all(answered_by & _worker_pids(other) for other in cluster.servers)


def test_a_server_stopped_during_a_burst_loses_no_request(cluster):
    statuses, lock = [], threading.Lock()

    def burst():
        for _ in range(40):
            try:
                status = get(cluster.nginx.url + PAGE)[0]
            except OSError as error:  # kept, so a failure says what the client saw
                status = f"{type(error).__name__}: {error}"
            with lock:
                statuses.append(status)

    clients = [threading.Thread(target=burst) for _ in range(8)]
    for client in clients:
        client.start()
    while len(statuses) < 80 and any(client.is_alive() for client in clients):
        time.sleep(0.01)
    # SIGTERM: the server closes its listener at once and finishes what is in flight.
    cluster.servers[0].process.terminate()
    answered_when_stopped = len(statuses)
    assert cluster.servers[0].stop() == 0
    for client in clients:
        client.join(60)
    assert statuses == [200] * 320
    assert answered_when_stopped < 320 - 50  # the burst went on well after the server had gone
    assert sum(server.log().count(PAGE) for server in cluster.servers[1:]) > 0


def test_a_paused_redis_is_a_503_within_seconds_and_service_returns_with_the_data(cluster):
    store = RedisStore(cluster.store_url)
    store.put_chatbot("default", GENERATED_CHATBOT, json.dumps([CONVERSATION]).encode())
    store.close()
    assert json.loads(get(cluster.nginx.url + PAGE)[1]) == [CONVERSATION]
    cluster.redis.pause()
    try:
        started = time.monotonic()
        while get(cluster.nginx.url + PAGE)[0] != 503:
            assert time.monotonic() - started < 5
            time.sleep(0.1)
    finally:
        cluster.redis.resume()
    # Each worker recovers on its own: until then it answers 503, never a page without the data set.
    started, in_a_row = time.monotonic(), 0
    while in_a_row < 12:
        status, body = get(cluster.nginx.url + PAGE)[:2]
        assert status in (200, 503)
        if status == 200:
            assert json.loads(body) == [CONVERSATION]
        in_a_row = in_a_row + 1 if status == 200 else 0
        assert time.monotonic() - started < 10
        time.sleep(0.02)


def test_an_answer_is_passed_on_once_whatever_its_status_only_failed_connections_are_retried(cluster):
    store = RedisStore(cluster.store_url)
    for code in (500, 502, 503, 504):  # retrying them would make a replica's answer two or three requests
        namespace = f"status-{code}"
        status, _ = get(cluster.nginx.url + PAGE, {"Prefer": f"code={code}", "X-Mock-Namespace": namespace,
                                                   "X-Request-ID": namespace})
        assert status == code
        assert [entry["status"] for entry in store.journal(namespace, path=PAGE)] == [code]
        deadline = time.monotonic() + 5  # a line is logged just after its answer is sent
        while sum(server.log().count(f"request_id={namespace} ") for server in cluster.servers) < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert sum(server.log().count(f"request_id={namespace} ") for server in cluster.servers) == 1
    store.close()


def _send(url, method="GET", body=None, namespace="hasty"):
    """(status, headers) of one request with the API key in `namespace`, on a new connection."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "X-API-Key": API_KEY, "Content-Type": "application/json", "X-Mock-Namespace": namespace})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.mark.parametrize("setup, refused", [
    (("/__mock/rate-limit", {"rate_limit": "1/h"}), 429),  # the first request passes, the next is refused
    (("/__mock/faults", [{"times": 1, "answer": {"code": 503, "retry_after": 30}}]), 503),
])
def test_a_retry_another_server_answered_before_retry_after_is_judged_by_every_server(
        cluster, setup, refused):
    first, second, third = (server.url for server in cluster.servers)
    path, body = setup
    assert _send(third + path, "PUT", body)[0] == 204
    if refused == 429:
        assert _send(third + PAGE)[0] == 200  # the budget's one request
    # Sent to each server in turn, not through nginx: the answer and the retry come from two servers.
    status, answer = _send(first + PAGE)
    assert status == refused and int(answer["Retry-After"]) >= 30
    _, retry = _send(second + PAGE)  # at once
    for url in (first, second, third, cluster.nginx.url):  # read from any server, judged alike
        read = urllib.request.Request(url + "/__mock/verdicts", headers={"X-Mock-Namespace": "hasty"})
        found = json.loads(urllib.request.urlopen(read, timeout=10).read())
        assert [(verdict["kind"], verdict["request_ids"]) for verdict in found] == [
            ("retry-before-retry-after", [answer["X-Request-Id"], retry["X-Request-Id"]])], url
