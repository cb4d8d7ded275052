"""Through a real gunicorn server with two workers: what the control API sets is what every worker answers."""

from tests.helpers import API_KEY, GENERATED_CHATBOT, call, only_worker, sample_conversations, worker_pids

LISTING = f"/chatbots/{GENERATED_CHATBOT}/conversations"




def test_a_put_to_one_worker_is_answered_by_both_and_journalled(live_server):
    server = live_server("--workers", "2")
    workers = worker_pids(server)
    for count in (3, 7):  # a PUT, then 40 listings, the two workers taking turns; then another PUT
        conversations = sample_conversations(GENERATED_CHATBOT, count)
        assert (
            call(server.url + "/__mock" + LISTING, "PUT", conversations, **{"X-Mock-Namespace": "live"})[0]
            == 204
        )
        assert call(server.url + "/__mock/requests", "DELETE", **{"X-Mock-Namespace": "live"})[0] == 204
        expected = [c["id"] for c in reversed(conversations)]
        for n in range(40):
            with only_worker(workers, workers[n % 2]):
                status, page = call(
                    f"{server.url}{LISTING}?page_size=100",
                    **{"X-API-Key": API_KEY, "X-Mock-Namespace": "live", "X-Request-ID": f"live-{count}-{n}"},
                )
            assert (status, [c["id"] for c in page]) == (200, expected)
        status, entries = call(server.url + "/__mock/requests", **{"X-Mock-Namespace": "live"})
        assert [(entry["request_id"], entry["status"], entry["worker"]) for entry in entries] == [
            (f"live-{count}-{n}", 200, workers[n % 2]) for n in reversed(range(40))
        ]
    assert call(server.url + "/__mock" + LISTING, "DELETE", **{"X-Mock-Namespace": "live"})[0] == 204
    for _ in range(10):
        status, page = call(
            f"{server.url}{LISTING}?page_size=100", **{"X-API-Key": API_KEY, "X-Mock-Namespace": "live"}
        )
        assert status == 200 and len(page) > 20  # generated again
    assert server.stop() == 0
