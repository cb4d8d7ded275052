"""Under load and faults, the real gunicorn server keeps answering, correctly and identically.

Bounded: a few thousand requests on 127.0.0.1. Which worker answered comes from the access log
(request_id=... worker=<pid>), so no response has to reveal a pid.
"""

import http.client
import os
import re
import signal
import socket
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, GENERATED_CHATBOT, LiveServer

REQUESTS = 2400
THREADS = 12
TARGETS = [
    f"/chatbots/{DOCUMENTED_CHATBOT}/conversations",
    f"/chatbots/{DOCUMENTED_CHATBOT}/conversations?state=resolved&page_size=3",
    f"/chatbots/{GENERATED_CHATBOT}/conversations",
    f"/chatbots/{GENERATED_CHATBOT}/conversations?page=3&page_size=25",
    f"/chatbots/{GENERATED_CHATBOT}/conversations?state=closed&page=2",
    "/chatbots/3f2b8a1c-9d4e-4f6a-8b7c-1e2d3c4b5a69/conversations?page_size=100",
    "/chatbots/3f2b8a1c-9d4e-4f6a-8b7c-1e2d3c4b5a69/conversations?page=999",
    "/chatbots/not-a-uuid/conversations",
]


def fetch(url, target, request_id, headers=None, timeout=30):
    """One request on a fresh connection (so the kernel spreads them over the workers)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", target, headers={"X-API-Key": API_KEY, "X-Request-ID": request_id,
                                                   **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def expected_answers(make_app):
    """What the in-process app answers to each target: the reference every worker must match."""
    client = make_app().test_client()
    answers = {}
    for target in TARGETS:
        response = client.get(target, headers={"X-API-Key": API_KEY})
        answers[target] = (response.status_code, response.data)
    return answers


def workers_by_request(server, expected_ids=(), timeout=10):
    """request id -> worker pid, from the access log once it has every expected id (gunicorn logs
    a request just after answering it)."""
    deadline = time.monotonic() + timeout
    while True:
        found = dict(re.findall(r"request_id=(\S+) worker=<(\d+)>", server.log()))
        if set(expected_ids) <= set(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def ready_workers(log):
    return re.findall(r"worker (\d+) ready", log)


def test_load_is_answered_identically_by_every_worker(live_server, make_app):
    expected = expected_answers(make_app)
    server = live_server("--workers", "3")
    jobs = [(f"load-{i}", TARGETS[i % len(TARGETS)]) for i in range(REQUESTS)]
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda job: (job, fetch(server.url, job[1], job[0])), jobs))

    bodies = defaultdict(set)
    for (_, target), (status, body) in results:
        assert (status, body) == expected[target], target
        bodies[target].add(body)
    assert all(len(variants) == 1 for variants in bodies.values())

    answered_by = workers_by_request(server, [request_id for request_id, _ in jobs])
    assert set(answered_by) == {request_id for request_id, _ in jobs}  # one log line each
    per_worker = Counter(answered_by.values())
    print(f"\n{REQUESTS} requests answered by worker pids: {dict(per_worker)}")
    assert len(per_worker) >= 2, per_worker
    # Each target was answered by more than one worker, with the same bytes.
    by_target = defaultdict(set)
    for request_id, target in jobs:
        by_target[target].add(answered_by[request_id])
    assert sum(len(pids) >= 2 for pids in by_target.values()) >= len(TARGETS) // 2, by_target


def test_a_killed_worker_is_replaced_and_the_server_keeps_answering(live_server, make_app):
    expected = expected_answers(make_app)
    server = live_server("--workers", "2")
    first_workers = ready_workers(server.log())
    victim = int(first_workers[0])
    stop = threading.Event()
    outcomes = []

    def keep_asking(thread):
        number = 0
        while not stop.is_set():
            target = TARGETS[number % len(TARGETS)]
            try:
                outcomes.append((target, fetch(server.url, target, f"kill-{thread}-{number}", timeout=10)))
            except (ConnectionError, http.client.HTTPException, socket.timeout) as error:
                outcomes.append((target, error))
            number += 1

    with ThreadPoolExecutor(4) as pool:
        for thread in range(4):
            pool.submit(keep_asking, thread)
        time.sleep(0.5)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(ready_workers(server.log())) < len(first_workers) + 1:
            time.sleep(0.1)
        answered_before_replacement = len(outcomes)
        time.sleep(1)
        stop.set()

    log = server.log()
    replacements = [pid for pid in ready_workers(log) if pid not in first_workers]
    assert replacements, log[-2000:]
    failures = [outcome for _, outcome in outcomes if isinstance(outcome, Exception)]
    # Only requests the killed worker held at that moment can fail; everything after is answered.
    assert len(failures) <= 4, failures
    assert len(outcomes) > answered_before_replacement + 10
    for target, outcome in outcomes[answered_before_replacement:]:
        assert outcome == expected[target]
    answered_by = set(workers_by_request(server).values())
    assert replacements[0] in answered_by, "the replacement worker answered nothing"
    print(f"\nkilled worker {victim}; replaced by {replacements}; {len(failures)} requests lost with it")


def test_sigterm_lets_in_flight_requests_finish(live_server, make_app):
    expected = expected_answers(make_app)[TARGETS[2]]
    server = live_server("--workers", "1")
    with ThreadPoolExecutor(3) as pool:
        in_flight = [pool.submit(fetch, server.url, TARGETS[2], f"slow-{i}", {"Prefer": "delay=1500"})
                     for i in range(3)]
        time.sleep(0.5)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        # New connections are refused once the worker stops listening...
        deadline = time.monotonic() + 5
        refused = False
        while time.monotonic() < deadline and not refused:
            try:
                fetch(server.url, TARGETS[0], "after-sigterm", timeout=2)
                time.sleep(0.05)
            except (ConnectionError, http.client.HTTPException, socket.timeout):
                refused = True
        # ...while the requests already in flight are answered in full.
        assert [future.result(timeout=20) for future in in_flight] == [expected] * 3
    assert refused
    assert server.process.wait(timeout=20) == 0
    assert time.monotonic() - started < 15  # well inside graceful_timeout (30 s)
    assert "Traceback" not in server.log()


def test_sigterm_to_the_process_group_stops_accepting_at_once(tmp_path, make_app):
    """A restart script may start a new server right after SIGTERM: the port must be free at once,
    while a request already in flight is still answered in full."""
    expected = expected_answers(make_app)[TARGETS[2]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_") and k != "PORT"}
    server = LiveServer(["--workers", "3"], {**env, "LOG_DIR": str(tmp_path)}, new_session=True)
    parts = urlsplit(server.url)
    address = (parts.hostname, parts.port)
    # A connection a worker has accepted (its first answer shows it), then a slow request on it.
    connection = http.client.HTTPConnection(*address, timeout=20)
    try:
        connection.request("GET", TARGETS[0], headers={"X-API-Key": API_KEY})
        first = connection.getresponse()
        assert (first.status, len(first.read()) > 0) == (200, True)
        connection.request("GET", TARGETS[2], headers={"X-API-Key": API_KEY, "Prefer": "delay=1500"})
        time.sleep(0.2)
        os.killpg(server.process.pid, signal.SIGTERM)
        signalled = time.monotonic()
        refused_after = None
        while refused_after is None and time.monotonic() - signalled < 3:
            try:
                socket.create_connection(address, timeout=1).close()
                time.sleep(0.005)
            except ConnectionRefusedError:
                refused_after = time.monotonic() - signalled
        in_flight = connection.getresponse()
        assert (in_flight.status, in_flight.read()) == expected
        assert refused_after is not None and refused_after < 0.1, f"accepting {refused_after} s after SIGTERM"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(address, timeout=1)
        # Done once the answer is sent: no wait for a next request on its keep-alive connection.
        assert server.process.wait(timeout=20) == 0
        assert time.monotonic() - signalled < 4
    finally:
        connection.close()
        server.stop()
    assert "Traceback" not in server.log() and "[ERROR]" not in server.log()


def test_slow_clients_do_not_stop_others(live_server, make_app):
    """Many connections sending a request slowly hold no worker; the keepalive timeout drops them."""
    expected = expected_answers(make_app)
    server = live_server("--workers", "2")
    parts = urlsplit(server.url)
    slow = []
    for _ in range(300):
        connection = socket.create_connection((parts.hostname, parts.port), timeout=10)
        connection.sendall(b"GET /chatbots/")  # and nothing more: the rest of the request never comes
        slow.append(connection)
    opened = time.monotonic()
    try:
        for number in range(100):
            target = TARGETS[number % len(TARGETS)]
            assert fetch(server.url, target, f"fast-{number}", timeout=5) == expected[target]
        assert time.monotonic() - opened < 4  # everyone else was served while all 300 were open
        # gevent workers read a request's line and headers under the keepalive timeout (5 s):
        # a client that has not sent its request by then is disconnected, freeing its connection.
        for connection in slow:
            connection.settimeout(max(0.1, opened + 9 - time.monotonic()))
            assert connection.recv(1024) == b""
    finally:
        for connection in slow:
            connection.close()
