"""Fault rules through real servers: a retrying client recovers, `times` is exact across servers on one Redis."""

import threading

import urllib3
from urllib3.util.retry import Retry

from tests.helpers import API_KEY, GENERATED_CHATBOT, call

PAGE = f"/chatbots/{GENERATED_CHATBOT}/conversations"
SEQUENCE = [{"times": 2, "answer": {"code": 503, "retry_after": 1}}]




def test_urllib3_retrying_on_503_with_retry_after_and_backoff_ends_with_the_page(live_server):
    server = live_server("--workers", "2")
    # Only a base URL, as an app is configured: the namespace is in the path, no header needed.
    base = server.url + "/__mock/ns/retrying"
    assert call(base + "/__mock/faults", "PUT", SEQUENCE)[0] == 204
    retry = Retry(total=4, status_forcelist=[503], allowed_methods=["GET"], backoff_factor=0.1,
                  respect_retry_after_header=True)
    with urllib3.PoolManager(retries=retry, timeout=10) as http:
        response = http.request("GET", base + PAGE, headers={"X-API-Key": API_KEY})
    assert response.status == 200 and len(response.json()) == 10
    history = [(entry.status, entry.redirect_location) for entry in response.retries.history]
    assert history == [(503, None), (503, None)]
    status, journal = call(base + "/__mock/requests")
    assert [entry["status"] for entry in reversed(journal)] == [503, 503, 200]
    assert call(base + "/__mock/faults")[1] == [{**SEQUENCE[0], "times_left": 0}]


def _hammer(urls, count, statuses):
    with urllib3.PoolManager(retries=False, timeout=10) as http:  # keep-alive connections, no retries
        for n in range(count):
            answered = http.request("GET", urls[n % len(urls)] + PAGE, headers={"X-API-Key": API_KEY})
            statuses.append(answered.status)


def test_times_is_exact_across_two_servers_sharing_redis(live_server, redis_url):
    servers = [live_server("--workers", "2", MOCK_STORE=redis_url) for _ in range(2)]
    base = [server.url + "/__mock/ns/shared" for server in servers]
    assert call(base[0] + "/__mock/faults", "PUT", [{"times": 25, "answer": {"code": 503}}])[0] == 204
    statuses = []
    clients = [threading.Thread(target=_hammer, args=(base[n % 2:] + base[:n % 2], 30, statuses))
               for n in range(4)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(60)
    assert len(statuses) == 120
    assert (statuses.count(503), statuses.count(200)) == (25, 95)
    for url in base:  # either server shows the rule spent
        assert call(url + "/__mock/faults")[1] == [{"times": 25, "answer": {"code": 503}, "times_left": 0}]


def test_rules_through_nginx_in_front_of_three_servers(cluster):
    base = cluster.nginx.url + "/__mock/ns/cluster"
    rules = [{"match": {"page": 2}, "times": 7, "answer": {"code": 429, "retry_after": 3}},
             {"times": 5, "answer": {"code": 500}}]
    assert call(base + "/__mock/faults", "PUT", rules)[0] == 204
    statuses = {"page=1": [], "page=2": []}
    for n in range(40):
        for query, seen in statuses.items():
            seen.append(call(f"{base}{PAGE}?{query}", **{"X-API-Key": API_KEY})[0])
    assert sorted(statuses["page=2"]) == [200] * 33 + [429] * 7
    assert sorted(statuses["page=1"]) == [200] * 35 + [500] * 5
    status, shown = call(base + "/__mock/faults")
    assert [rule["times_left"] for rule in shown] == [0, 0]
    assert call(cluster.nginx.url + "/__mock/faults")[1] == []  # the default namespace has none


def test_a_fault_rule_breaks_the_connection_and_a_retrying_client_gets_the_page_after(live_server):
    server = live_server("--workers", "2")
    base = server.url + "/__mock/ns/faulty"
    rules = [{"times": 1, "answer": {"fault": fault}} for fault in ("connection-reset", "empty-response")]
    assert call(base + "/__mock/faults", "PUT", rules)[0] == 204
    with urllib3.PoolManager(retries=False, timeout=10) as http:
        try:
            http.request("GET", base + PAGE, headers={"X-API-Key": API_KEY})
        except urllib3.exceptions.ProtocolError as error:
            assert "reset" in str(error).lower()
        else:
            raise AssertionError("the connection was not reset")
    retry = Retry(total=3, read=3, backoff_factor=0.05)  # read errors of an idempotent GET are retried
    with urllib3.PoolManager(retries=retry, timeout=10) as http:
        response = http.request("GET", base + PAGE, headers={"X-API-Key": API_KEY})
    assert response.status == 200 and len(response.retries.history) == 1
    assert [rule["times_left"] for rule in call(base + "/__mock/faults")[1]] == [0, 0]
