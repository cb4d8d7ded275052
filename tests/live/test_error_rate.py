"""The error rate draws per attempt on the real server: every worker counts on the store's one counter."""

import requests

from conversations_mock import create_app
from tests.helpers import API_KEY, GENERATED_LISTING

ATTEMPTS, MOST = 16, 64


def test_the_k_th_attempt_draws_the_same_whichever_worker_answers(live_server):
    server = live_server("--workers", "2", "--error-rate", "0.5", "--error-status", "503,502")
    target = GENERATED_LISTING + "?page=3"
    answered, workers = [], set()
    # A new connection each time, so the workers share them out; on until both have answered (one may take a
    # burst of connections: web/balance.py evens them out over time), at least ATTEMPTS, at most MOST.
    while len(answered) < ATTEMPTS or (len(workers) < 2 and len(answered) < MOST):
        attempt = len(answered)
        response = requests.get(server.url + target, timeout=10, headers={
            "X-API-Key": API_KEY, "Connection": "close", "X-Request-ID": f"attempt-{attempt}"})
        answered.append((response.status_code, response.headers.get("Retry-After")))
        journal = requests.get(f"{server.url}/__mock/requests?limit=1", timeout=10).json()
        workers.add(journal[0]["worker"])
    assert len(workers) == 2
    # The same run in one process, on a store of its own: the same sequence of draws.
    client = create_app({"error_rate": "0.5", "error_status": "503,502"}, environ={}).test_client()
    expected = []
    for _ in answered:
        response = client.get(target, headers={"X-API-Key": API_KEY})
        expected.append((response.status_code, response.headers.get("Retry-After")))
    assert answered == expected
    assert {status for status, _ in answered} == {200, 502, 503}
    assert all(retry_after == ("1" if status == 503 else None) for status, retry_after in answered)
