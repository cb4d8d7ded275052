"""A delayed request never holds back the others on the real gunicorn server (issues 3 and 4)."""

import json
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import API_KEY, GENERATED_CHATBOT, GENERATED_LISTING

CONCURRENT = 64
DELAY_MS = 1000


def _fetch(url, prefer=None):
    """GET url; return (status, Preference-Applied, monotonic time the answer was read)."""
    headers = {"X-API-Key": API_KEY, **({"Prefer": prefer} if prefer else {})}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        response.read()
        return response.status, response.headers.get("Preference-Applied"), time.monotonic()


def test_concurrent_delayed_requests_finish_in_about_one_delay(live_server):
    server = live_server("--workers", "2")
    url = f"{server.url}/chatbots/{GENERATED_CHATBOT}/conversations"
    _fetch(url)  # warm both the connection path and the page cache
    with ThreadPoolExecutor(CONCURRENT) as pool:
        start = time.monotonic()
        delayed = [pool.submit(_fetch, url, f"delay={DELAY_MS}") for _ in range(CONCURRENT)]
        time.sleep(0.2)
        prompt_status, prompt_applied, prompt_done = _fetch(url)
        results = [future.result() for future in delayed]
    finished = [done for _, _, done in results]
    assert [(status, applied) for status, applied, _ in results] == [(200, f"delay={DELAY_MS}")] * CONCURRENT
    # Every delayed request waited its delay, and all of them together took about one delay, not 64.
    assert min(finished) - start >= DELAY_MS / 1000
    assert max(finished) - start < 5
    # The request without a delay, sent while all 64 were waiting, was answered before any of them.
    assert (prompt_status, prompt_applied) == (200, None)
    assert prompt_done < min(finished)


def _journal(server, namespace) -> list:
    request = urllib.request.Request(f"{server.url}/__mock/requests", headers={"X-Mock-Namespace": namespace})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("delayed_by", ["prefer", "latency"])
def test_a_request_its_client_abandons_during_the_delay_is_journalled_and_logged_499(live_server, delayed_by):
    # Prefer goes through the view; the server's latency delays warm pages on the fast path.
    server = live_server("--workers", "1", *(["--latency", "3000"] if delayed_by == "latency" else []))
    host, port = server.url.rsplit("/", 1)[1].split(":")
    prefer = "Prefer: delay=3000\r\n" if delayed_by == "prefer" else ""
    request = (f"GET {GENERATED_LISTING} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {API_KEY}\r\n"
               f"X-Mock-Namespace: abandoned\r\n{prefer}X-Request-ID: abandoned-{{n}}\r\n\r\n")
    if delayed_by == "latency":  # warm: the fast path has learnt the key and the page
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(request.format(n=0).encode())
            assert connection.recv(64).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request.format(n=1).encode())
        time.sleep(0.3)  # the client's timeout
    entries = []
    while time.monotonic() - started < 2.5:  # journalled when the client left, not when the delay ends
        entries = [entry for entry in _journal(server, "abandoned") if entry["request_id"] == "abandoned-1"]
        if entries:
            break
        time.sleep(0.05)
    assert [entry["status"] for entry in entries] == [499]
    time.sleep(3)  # past the delay: nothing more is written of it
    journal = _journal(server, "abandoned")
    assert [entry["status"] for entry in journal if entry["request_id"] == "abandoned-1"] == [499]
    lines = [line for line in server.log().splitlines() if "request_id=abandoned-1 " in line]
    assert len(lines) == 1 and '" 499 ' in lines[0], lines
    assert server.stop() == 0
