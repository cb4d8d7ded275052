"""What the mock noticed about a namespace's clients, judged from its journal (GET /__mock/verdicts).

Pure functions over journal entries as the store keeps them (web/journal.py `Entries.entry`), so
the HTTP view and the pytest plugin judge the same record. Each verdict is
`{"kind", "detail", "request_ids"}` (schemas/control.py VerdictSchema); `judge(entries)` lists them
by their first request:

- retry-before-retry-after: a request received before the Retry-After of an earlier answer (a 429
  or 503 that carried one, whatever produced it) to the same API key had elapsed, counted from
  when that answer was sent. One verdict per key.
- retry-without-backoff: three or more failed attempts (a transport fault, 408, 429 or 5xx) of the
  same request (method, path, query, API key) in a row, each wait no longer than GROWTH times the
  one before. A wait after an answer that carried Retry-After is the other verdict's to judge.
- ignored-auth-error: an API key the API refused with 401 (or no key at all) refused again three
  or more times after that 401.
- repeated-request: the same request answered 2xx five or more times within one second.

CORS preflights (OPTIONS) are left out: a browser sends them, not the client's code. API keys are
never shown: requests are grouped by the keyed digest the journal keeps of each masked header.
Every server on one Redis store digests with the key kept there (web/journal.py `Entries`), so a
key's requests are judged together whichever servers answered them. Only what the journal still
holds is judged: each namespace keeps its newest journal_size entries.
"""

import heapq
import itertools
from collections import defaultdict

# Failed attempts in a row, refused sends after a 401, and successes within REPEAT_WINDOW that make a verdict.
RETRIES = 3
AUTH_RESENDS = 3
REPEATS = 5
REPEAT_WINDOW = 1.0
# A wait "grows" when it is at least GROWTH times the one before and longer by MIN_GROWTH seconds: exponential
# backoff doubles it, jitter included, while a fixed pause or a loop's scheduling noise does neither.
GROWTH = 1.5
MIN_GROWTH = 0.010
_API_KEY_HEADER = "x-api-key"


def judge(entries) -> list[dict]:
    """The verdicts on the clients whose requests `entries` are (one namespace's journal, any order)."""
    ordered = sorted((entry for entry in entries if entry["method"] != "OPTIONS"), key=_received)
    found = [
        *_early_retries(ordered),
        *_retries_without_backoff(ordered),
        *_ignored_auth_errors(ordered),
        *_repeated_requests(ordered),
    ]
    return [verdict for _, verdict in sorted(found, key=lambda pair: pair[0])]


def _received(entry) -> float:
    """When the request reached the mock (entries journalled before `received` was kept: when answered)."""
    return entry.get("received", entry["time"])


def key_of(entry):
    """Which API key the request sent, as the journal can tell: (the digests' key id, the digest), or None."""
    digests = entry.get("digests") or {}
    for name, digest in (digests.get("headers") or {}).items():
        if name.lower() == _API_KEY_HEADER:
            return digests["key"], digest
    return None


def _identity(entry) -> tuple:
    """What makes two requests the same request: method, path, query and API key (in one namespace)."""
    return entry["method"], entry["path"], entry["query"], key_of(entry)


def _failed(entry) -> bool:
    status = entry["status"]
    return bool(entry.get("fault")) or status == 0 or status in (408, 429) or status >= 500


def _ids(entries) -> list[str]:
    return [entry["request_id"] for entry in entries]


def _seconds(value: float) -> str:
    return f"{value:.3f} s"


def _early_retries(ordered):
    """(first time, verdict) per API key that came back before a Retry-After it was given had elapsed.

    One pass per key, O(n log n): answers join in the order they were sent, and of those sent before
    a request arrived the one whose Retry-After ends last decides whether it came early.
    """
    by_key = defaultdict(list)
    for entry in ordered:
        by_key[key_of(entry)].append(entry)
    for entries in by_key.values():
        unsent = []  # heap of (when sent, order, answer): answers with Retry-After not yet sent at `received`
        binding = None  # (when its Retry-After ends, answer): of the answers sent so far, the one ending last
        involved, early, first = {}, 0, None
        for order, entry in enumerate(entries):
            received = _received(entry)
            # Only an answer sent before this request arrived could have been heeded.
            while unsent and unsent[0][0] <= received:
                sent, _, answer = heapq.heappop(unsent)
                if binding is None or sent + answer["retry_after"] > binding[0]:
                    binding = (sent + answer["retry_after"], answer)
            if binding is not None and received < binding[0]:
                answer = binding[1]
                early += 1
                first = first or (answer, received - answer["time"])
                involved[id(answer)] = answer
                involved[id(entry)] = entry
            if entry.get("retry_after") and entry["status"] in (429, 503):
                heapq.heappush(unsent, (entry["time"], order, entry))
        if early:
            answer, gap = first
            shown = sorted(involved.values(), key=_received)
            yield _received(shown[0]), {
                "kind": "retry-before-retry-after",
                "detail": f"{early} request(s) with one API key were sent before the Retry-After of an "
                f"earlier answer had elapsed: the first {_seconds(gap)} after a {answer['status']} to "
                f"{answer['method']} {answer['target']} asked to wait {answer['retry_after']} s.",
                "request_ids": _ids(shown),
            }


def _retries_without_backoff(ordered):
    """(first time, verdict) per run of RETRIES or more failed attempts of a request whose waits stay flat."""
    by_request = defaultdict(list)
    for entry in ordered:
        by_request[_identity(entry)].append(entry)
    for entries in by_request.values():
        run = []
        for entry in [*entries, None]:  # None closes the last run
            if entry is not None and _failed(entry) and run and not run[-1].get("retry_after"):
                if len(run) >= 2 and _grows(_gap(run[-2], run[-1]), _gap(run[-1], entry)):
                    if len(run) >= RETRIES:
                        yield _received(run[0]), _no_backoff(run)
                    run = run[-1:]  # the client waited longer: a new run starts at the last failure
                run.append(entry)
                continue
            if len(run) >= RETRIES:
                yield _received(run[0]), _no_backoff(run)
            run = [entry] if entry is not None and _failed(entry) else []


def _gap(earlier, later) -> float:
    return _received(later) - _received(earlier)


def _grows(before: float, after: float) -> bool:
    return after >= before * GROWTH and after - before >= MIN_GROWTH


def _no_backoff(run) -> dict:
    gaps = ", ".join(f"{_gap(a, b) * 1000:.0f}" for a, b in itertools.pairwise(run))
    first = run[0]
    return {
        "kind": "retry-without-backoff",
        "detail": f"{len(run)} failed attempts in a row of {first['method']} {first['target']}, {gaps} ms "
        "apart: the client retried without waiting longer each time (no backoff).",
        "request_ids": _ids(run),
    }


def _ignored_auth_errors(ordered):
    """(first time, verdict) per API key (or none) refused again AUTH_RESENDS or more times after a 401."""
    refused, again = {}, defaultdict(list)
    for entry in ordered:
        key = key_of(entry)
        if key in refused:
            if entry["status"] == 401 and _received(entry) >= refused[key]["time"]:
                again[key].append(entry)
        elif entry["status"] == 401:
            refused[key] = entry
    for key, resent in again.items():
        if len(resent) >= AUTH_RESENDS:
            first = refused[key]
            sent = "sent without an X-API-Key" if key is None else "with an API key the API refused"
            yield _received(first), {
                "kind": "ignored-auth-error",
                "detail": f"After a 401 to {first['method']} {first['target']} {sent}, {len(resent)} more "
                "request(s) were sent the same way: a client should stop and report a rejected key.",
                "request_ids": _ids([first, *resent]),
            }


def _repeated_requests(ordered):
    """(first time, verdict) per burst of one successful request, REPEATS or more within REPEAT_WINDOW."""
    by_request = defaultdict(list)
    for entry in ordered:
        if 200 <= entry["status"] < 300 and not entry.get("fault"):
            by_request[_identity(entry)].append(entry)
    for entries in by_request.values():
        times = [_received(entry) for entry in entries]
        burst, end = None, 0  # the burst being gathered: its first index; end: one past its last
        start = 0
        for last in range(len(entries)):
            while times[last] - times[start] > REPEAT_WINDOW:
                start += 1
            if last - start + 1 < REPEATS:
                continue
            if burst is not None and start < end:
                end = last + 1  # overlaps the burst so far: one burst
                continue
            if burst is not None:
                yield _burst(entries[burst:end])
            burst, end = start, last + 1
        if burst is not None:
            yield _burst(entries[burst:end])


def _burst(entries) -> tuple:
    first = entries[0]
    span = _gap(first, entries[-1])
    return _received(first), {
        "kind": "repeated-request",
        "detail": f"{first['method']} {first['target']} was answered {first['status']} {len(entries)} "
        f"times in {_seconds(span)}, at least {REPEATS} within one second: the client asks again for what "
        "it just had (cache it, or poll less often).",
        "request_ids": _ids(entries),
    }
