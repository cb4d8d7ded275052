"""The error rate draws per attempt on the real server: every worker counts on the store's one counter."""

import requests

from conversations_mock import create_app
from tests.helpers import API_KEY, GENERATED_LISTING, only_worker, worker_pids

ATTEMPTS = 16


def test_the_k_th_attempt_draws_the_same_whichever_worker_answers(live_server):
    server = live_server("--workers", "2", "--error-rate", "0.5", "--error-status", "503,502")
    workers = worker_pids(server)
    target = GENERATED_LISTING + "?page=3"
    answered = []
    for attempt in range(ATTEMPTS):
        with only_worker(workers, workers[attempt % 2]):  # the workers take turns
            response = requests.get(server.url + target, timeout=10, headers={
                "X-API-Key": API_KEY, "Connection": "close", "X-Request-ID": f"attempt-{attempt}"})
        answered.append((response.status_code, response.headers.get("Retry-After")))
    journal = requests.get(f"{server.url}/__mock/requests", timeout=10).json()
    assert {entry["worker"] for entry in journal if entry["request_id"].startswith("attempt-")} == set(workers)
    # The same run in one process, on a store of its own: the same sequence of draws.
    client = create_app({"error_rate": "0.5", "error_status": "503,502"}, environ={}).test_client()
    expected = []
    for _ in range(ATTEMPTS):
        response = client.get(target, headers={"X-API-Key": API_KEY})
        expected.append((response.status_code, response.headers.get("Retry-After")))
    assert answered == expected
    assert {status for status, _ in answered} == {200, 502, 503}
    assert all(retry_after == ("1" if status == 503 else None) for status, retry_after in answered)
