"""In-process costs, without a server: building uncached pages, encoding them, one request through the app.

Run by tests/bench/run.py (with PYTHONPATH naming the source tree to measure); prints JSON.
Each figure is the median of seven interleaved rounds, in microseconds per page or request.
"""

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

BIG = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"
API_KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"


def costs(functions, rounds=7, n=300):
    """{name: median microseconds per call}, the functions taking turns in every round so a busy
    neighbour slows them alike; each call gets a number never used before."""
    times = {name: [] for name in functions}
    for r in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            for i in range(n):
                function(r * n + i)
            times[name].append((time.perf_counter() - start) / n * 1e6)
    return {name: statistics.median(values) for name, values in times.items()}


def page_costs(pools):
    from conversations_mock.data.generator import GeneratedHistory

    try:  # the instant `--clock now` evaluates pages at, where this source tree has a clock
        from conversations_mock.data.clock import Clock
        now = {"at": Clock.of("now").now_us()}
    except ImportError:
        now = None

    def small(i, **at):  # page 1 of a new 50-conversation chatbot
        return orjson.dumps(GeneratedHistory(f"{i:08x}-0000-4000-8000-000000000000", 7, 50, pools).page(None, 0, 10, **at))

    def big(state, page, **at):
        def build(i):  # a new seed each time, so no block or history cache helps
            history = GeneratedHistory(BIG, 1000 + i, 1_000_000, pools)
            return orjson.dumps(history.page(state, (page - 1) * 10, 10, **at))
        return build

    def moving(state, page):
        history = GeneratedHistory(BIG, 1, 1_000_000, pools)

        def build(i):  # one history, the instant a second later each time, as `--clock now` asks again
            return orjson.dumps(history.page(state, (page - 1) * 10, 10, at=now["at"] + i * 10**6))
        return build

    functions = {
        "50 conversations, page 1": small,
        "1,000,000, page 1": big(None, 1),
        "1,000,000, page 99,999": big(None, 99_999),
        "1,000,000, state=resolved page 5000": big("resolved", 5000),
        "1,000,000, state=closed page 5000": big("closed", 5000),
        "1,000,000, state=in_progress page 5000": big("in_progress", 5000),
    }
    if now:
        functions.update({
            "now: 50 conversations, page 1": lambda i: small(i, **now),
            "now: 1,000,000, page 1": big(None, 1, **now),
            "now: 1,000,000, page 99,999": big(None, 99_999, **now),
            "now: 1,000,000, state=resolved page 5000": big("resolved", 5000, **now),
            "now, one history, a new instant each time: state=resolved page 5000": moving("resolved", 5000),
            "now, one history, a new instant each time: page 99,999": moving(None, 99_999),
        })
    return costs(functions)


def encoding_costs(pools):
    from conversations_mock.data.generator import GeneratedHistory

    history = GeneratedHistory(BIG, 1, 1_000_000, pools)
    functions = {}
    for size in (10, 100):
        items = history.page(None, 0, size)
        assert json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode() == orjson.dumps(items)
        functions[f"orjson, page of {size}"] = lambda i, items=items: orjson.dumps(items)
        functions[f"json, page of {size}"] = (
            lambda i, items=items: json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode())
    return costs(functions)


def request_costs():
    """One GET through the whole app (middleware included) against the floor app's."""
    from flask import Flask, Response
    from werkzeug.test import EnvironBuilder

    from conversations_mock import create_app
    from conversations_mock.data.platforms import ALL_LOCALES

    with tempfile.TemporaryDirectory(prefix="mock-bench-") as fixtures:
        fixture = {"chatbots": [{"id": BIG, "generated": {"count": 1_000_000}}]}
        (Path(fixtures) / "big.json").write_text(json.dumps(fixture), encoding="utf-8")
        app = create_app({"fixtures_dir": fixtures, "conversations": "50"})
    app.extensions["catalogue"].pools.warm(ALL_LOCALES)  # as the gunicorn master does before forking

    def environ(path):
        return EnvironBuilder(path=path, headers={"X-API-Key": API_KEY}).get_environ()

    def call(target, env):
        statuses = []
        chunks = target(dict(env), lambda status, headers, exc_info=None: statuses.append(status))
        body = b"".join(chunks)
        getattr(chunks, "close", lambda: None)()  # as a WSGI server does
        assert statuses[0].startswith("200"), (statuses, body[:200])
        return body

    documented = environ("/chatbots/5afe16ed-5fd2-4552-a993-903bc9c32bb6/conversations")
    body = call(app, documented)
    floor = Flask("floor")
    floor.add_url_rule("/chatbots/<chatbot_id>/conversations", "page",
                       lambda chatbot_id: Response(body, mimetype="application/json"))
    generated = environ("/chatbots/0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11/conversations")
    call(app, generated)
    # Fresh pages: walk the big chatbot's pages and new chatbots (environs built ahead, not timed).
    fresh = [environ(f"/chatbots/{BIG}/conversations?page={2 + i}") for i in range(2100)]
    filtered = [environ(f"/chatbots/{BIG}/conversations?state=resolved&page={2 + i}") for i in range(2100)]
    bots = [environ(f"/chatbots/{i:08x}-0000-4000-8000-{i:012x}/conversations") for i in range(2100)]
    functions = {
        "floor app": lambda i: call(floor, documented),
        "cached page": lambda i: call(app, generated),
    }
    try:
        from conversations_mock.settings import SETTINGS
    except ImportError:
        SETTINGS = {}
    if "journal_size" in SETTINGS:  # the same app without its journal: the difference is the journal's cost
        with tempfile.TemporaryDirectory(prefix="mock-bench-") as fixtures:
            (Path(fixtures) / "big.json").write_text(json.dumps(fixture), encoding="utf-8")
            quiet = create_app({"fixtures_dir": fixtures, "conversations": "50", "journal_size": 0})
        call(quiet, generated)
        functions["cached page, journal off (journal_size 0)"] = lambda i: call(quiet, generated)
    fresh_functions = {
        "never-requested page of the 1M chatbot": lambda i: call(app, fresh[i]),
        "never-requested state=resolved page of the 1M chatbot": lambda i: call(app, filtered[i]),
        "page 1 of a never-requested 50-conversation chatbot": lambda i: call(app, bots[i]),
    }
    with tempfile.TemporaryDirectory(prefix="mock-bench-") as fixtures:
        (Path(fixtures) / "big.json").write_text(json.dumps(fixture), encoding="utf-8")
        full = create_app({"fixtures_dir": fixtures, "conversations": "50"})
    full.extensions["layers"]["fast"].enabled = False  # so Flask's view answers every request
    # The same pages, new to this app (it has its own caches), through Flask's view.
    fresh_functions["never-requested page of the 1M chatbot, through Flask (fast path off)"] = (
        lambda i: call(full, fresh[i]))
    call(full, generated)
    functions["cached page, fast path off (the full Flask path)"] = lambda i: call(full, generated)
    return costs({**functions, **fresh_functions})


def main():
    from conversations_mock.data.messages import MessagePools
    from conversations_mock.data.platforms import ALL_LOCALES

    pools = MessagePools()
    pools.warm(ALL_LOCALES)
    try:  # the process-wide pools the app uses, where this source tree has them
        from conversations_mock.data.messages import SHARED_POOLS
        SHARED_POOLS.warm(ALL_LOCALES)
    except ImportError:
        pass
    result = {"pages": page_costs(pools), "encoding": encoding_costs(pools), "requests": request_costs()}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
