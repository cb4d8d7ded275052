"""The rate limit on real servers: one server's workers, and two servers on one Redis, count one budget."""

import json
import urllib.error
import urllib.request

from tests.helpers import API_KEY, GENERATED_LISTING


def call(url, method="GET", body=None, headers=None):
    """(status, headers) of one request with the API key."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "X-API-Key": API_KEY, "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def test_the_workers_of_one_server_count_one_budget_exactly(live_server):
    server = live_server("--rate-limit", "4/h", "--workers", "3")
    # urllib opens a connection per request: gunicorn's workers take turns accepting them.
    statuses = [call(server.url + GENERATED_LISTING)[0] for _ in range(12)]
    assert statuses == [200] * 4 + [429] * 8
    assert call(server.url + GENERATED_LISTING, headers={"X-Mock-Namespace": "other"})[0] == 200


def test_two_servers_on_one_redis_count_one_budget_exactly(live_server, redis_url):
    servers = [live_server("--rate-limit", "5/min", MOCK_STORE=redis_url, MOCK_WORKERS="2") for _ in range(2)]
    answers = [call(servers[n % 2].url + GENERATED_LISTING) for n in range(12)]
    assert [status for status, _ in answers] == [200] * 5 + [429] * 7
    assert [headers["X-RateLimit-Remaining"] for _, headers in answers[:6]] == ["4", "3", "2", "1", "0", "0"]
    for _, headers in answers[5:]:  # refused until the window ends, whichever server is asked
        assert headers["RateLimit-Policy"] == '"default";q=5;w=60'
        assert 1 <= int(headers["Retry-After"]) <= 60
        assert headers["Retry-After"] == headers["X-RateLimit-Reset"]


def test_a_namespaces_limit_set_through_one_server_holds_on_the_other(live_server, redis_url):
    first, second = (live_server(MOCK_STORE=redis_url, MOCK_WORKERS="2") for _ in range(2))
    namespace = {"X-Mock-Namespace": "throttled"}
    assert call(first.url + "/__mock/rate-limit", "PUT", {"rate_limit": "2/h"}, namespace)[0] == 204
    statuses = [call(server.url + GENERATED_LISTING, headers=namespace)[0]
                for server in (second, first, second)]
    assert statuses == [200, 200, 429]
    assert call(second.url + GENERATED_LISTING)[0] == 200  # the default namespace is not limited
    assert call(second.url + "/__mock/reset", "POST", headers=namespace)[0] == 204
    assert call(first.url + GENERATED_LISTING, headers=namespace)[0] == 200


def test_a_budget_is_exact_through_nginx_in_front_of_three_servers(cluster):
    base = cluster.nginx.url + "/__mock/ns/cluster"
    budget = 7
    assert call(base + "/__mock/rate-limit", "PUT", {"rate_limit": f"{budget}/h"})[0] == 204
    # A page per request, each on a new connection: nginx spreads them over the three servers.
    answers = [call(f"{base}{GENERATED_LISTING}?page={n % 10 + 1}") for n in range(3 * budget)]
    assert [status for status, _ in answers] == [200] * budget + [429] * (2 * budget)
    assert [headers["X-RateLimit-Remaining"] for _, headers in answers[:budget]] == [
        str(budget - n) for n in range(1, budget + 1)]
    journal = json.loads(urllib.request.urlopen(base + "/__mock/requests", timeout=10).read())
    assert len(journal) == 3 * budget
    assert len({entry["worker"] for entry in journal}) >= 3  # answered by every server (two workers each)
