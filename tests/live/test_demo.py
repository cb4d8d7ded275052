"""`make demo` at the wall clock's pace: a real server with the demo's flags, watched for up to a minute."""

import json
import time
import urllib.request
from datetime import datetime, timezone
from hashlib import blake2b

from conversations_mock.data.arrivals import daily_rhythm, peak_hour
from conversations_mock.data.generator import chatbot_key
from conversations_mock.settings import SETTINGS
from tests.helpers import API_KEY, demo_flags

WATCH_SECONDS = 60


def _busy_chatbot(hour: int) -> str:
    """A chatbot whose hour `hour` (UTC) and the next are among its busiest: a new conversation every
    15 seconds or sooner under the demo's rate, so a minute of watching sees one whatever the time of day."""
    seed = int(SETTINGS["seed"].default)
    for n in range(1000):
        chatbot = f"{n:08x}-0000-4000-8000-{n:012x}"
        weights = daily_rhythm(peak_hour(blake2b(b"timeline", key=chatbot_key(seed, chatbot), digest_size=8)
                                         .digest())).weights
        if min(weights[hour], weights[(hour + 1) % 24]) >= 7:
            return chatbot
    raise AssertionError("no chatbot busy at this hour")


def _page_one(url):
    request = urllib.request.Request(url, headers={"X-API-Key": API_KEY})
    with urllib.request.urlopen(request, timeout=10) as response:
        clock = datetime.fromisoformat(response.headers["X-Mock-Clock"])
        return clock, json.loads(response.read())


def test_the_demo_runs_at_the_wall_clocks_pace_and_page_one_changes(live_server):
    server = live_server("--workers", "1", *demo_flags())
    url = f"{server.url}/chatbots/{_busy_chatbot(datetime.now(timezone.utc).hour)}/conversations"
    _, first = _page_one(url)
    deadline = time.monotonic() + WATCH_SECONDS
    while True:
        clock, page = _page_one(url)
        # The mock's instant is the wall clock's, to the second it ticks on.
        assert abs((clock - datetime.now(timezone.utc)).total_seconds()) < 3
        assert all(datetime.fromisoformat(c["created_at"]) <= clock for c in page)
        if page[0]["id"] != first[0]["id"] or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert page[0]["id"] not in {c["id"] for c in first}  # a new conversation on top
