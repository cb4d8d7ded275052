"""A delayed request never holds back the others on the real gunicorn server (issues 3 and 4)."""

import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.helpers import API_KEY, GENERATED_CHATBOT

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
