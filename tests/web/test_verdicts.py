"""The verdicts (web/verdicts.py) over journal entries made by hand: when each kind is found, and when not."""

import pytest

from conversations_mock.web.verdicts import judge
from tests.helpers import GENERATED_LISTING

KEY = ("server-key", "digest-of-the-key")
OTHER_KEY = ("server-key", "digest-of-another-key")


def entry(at, status=200, *, key=KEY, query="", retry_after=None, fault=None, took=0.002, rid=None,
          method="GET"):
    """A journal entry as the store keeps it: received `at` seconds, answered `took` later."""
    digests = None if key is None else {"key": key[0], "headers": {"X-Api-Key": key[1]}}
    return {
        "time": at + took, "received": at, "method": method, "path": GENERATED_LISTING, "query": query,
        "target": GENERATED_LISTING + (f"?{query}" if query else ""), "status": status,
        "retry_after": retry_after, "request_id": rid or f"r{at:g}", "fault": fault, "namespace": "default",
        "worker": 1, "headers": {"X-Api-Key": "***"}, "digests": digests,
    }


def kinds(entries):
    return [verdict["kind"] for verdict in judge(entries)]


def test_a_client_that_behaves_earns_nothing():
    entries = [
        entry(0.0, 503, retry_after=1), entry(1.1, 503, retry_after=1), entry(2.2),  # waited as told
        entry(3.0, 500), entry(3.01, 500), entry(3.2, 500), entry(3.6, 500), entry(4.4),  # backed off
        entry(5.0, 401, key=OTHER_KEY),  # gave up on a refused key
        *(entry(6.0 + n * 0.3, query=f"page={n}") for n in range(1, 8)),  # walked the pages
        *(entry(9.0 + n * 0.25) for n in range(4)),  # four of the same within a second
    ]
    assert judge(entries) == []
    assert judge(list(reversed(entries))) == []  # the journal lists newest first: order does not matter


def test_retry_before_retry_after_names_the_answer_and_every_early_request():
    entries = [entry(0.0, 429, retry_after=2, rid="told"), entry(0.5, 429, retry_after=2, rid="early-1"),
               entry(1.0, 200, rid="early-2", query="page=2"), entry(2.6, rid="late-enough")]
    [verdict] = judge(entries)
    assert verdict["kind"] == "retry-before-retry-after"
    assert verdict["request_ids"] == ["told", "early-1", "early-2"]
    assert verdict["detail"].startswith("2 request(s) with one API key were sent before the Retry-After")
    assert "0.498 s after a 429 to GET " in verdict["detail"] and "asked to wait 2 s" in verdict["detail"]


@pytest.mark.parametrize("later, expected", [
    (entry(0.9, key=OTHER_KEY), []),  # another key: its own budget
    (entry(0.9, key=None), []),  # no key at all is not the key that was told
    (entry(1.01), []),  # after the Retry-After elapsed
    (entry(0.001, took=0.5), []),  # arrived before the 503 was sent: in flight, could not heed it
    (entry(0.9), ["retry-before-retry-after"]),
])
def test_retry_after_binds_only_the_same_key_after_the_answer_was_sent(later, expected):
    assert kinds([entry(0.0, 503, retry_after=1), later]) == expected


def test_a_retry_after_of_zero_asks_no_wait():
    assert judge([entry(0.0, 503, retry_after=0), entry(0.01)]) == []


@pytest.mark.parametrize("times", [
    [0.0, 0.001, 0.002],  # a tight loop
    [0.0, 0.1, 0.2, 0.3, 0.4],  # a fixed pause
    [0.0, 0.2, 0.3],  # a shorter wait
    [0.0, 0.100, 0.205],  # grows by less than half
])
def test_retry_without_backoff_is_three_failures_in_a_row_whose_waits_do_not_grow(times):
    entries = [entry(at, 500) for at in times]
    [verdict] = judge(entries)
    assert verdict["kind"] == "retry-without-backoff"
    assert verdict["request_ids"] == [e["request_id"] for e in entries]
    assert verdict["detail"].startswith(f"{len(times)} failed attempts in a row of GET {GENERATED_LISTING}")


@pytest.mark.parametrize("failure", [
    {"status": 0, "fault": "connection-reset"}, {"status": 502}, {"status": 504}, {"status": 408},
    {"status": 429}])
def test_every_kind_of_failure_without_retry_after_counts(failure):
    status = failure["status"]
    entries = [entry(at, status, fault=failure.get("fault")) for at in (0.0, 0.01, 0.02)]
    assert kinds(entries) == ["retry-without-backoff"]


@pytest.mark.parametrize("entries", [
    [entry(0.0, 500), entry(0.01, 500)],  # two are not three
    [entry(0.0, 500), entry(0.01, 500), entry(0.02), entry(0.03, 500)],  # a success breaks the row
    [entry(0.0, 500), entry(0.01, 500), entry(0.02, 500, query="page=2")],  # another request
    [entry(0.0, 500), entry(0.01, 500), entry(0.02, 500, key=OTHER_KEY)],  # another key
    [entry(0.0, 500), entry(0.01, 500), entry(0.02, 422), entry(0.03, 500)],  # a 422 is no failed attempt...
    [entry(0.0, 500), entry(0.05, 500), entry(0.2, 500), entry(0.6, 500), entry(1.5, 500)],  # backoff
])
def test_no_verdict_without_three_failed_attempts_whose_waits_do_not_grow(entries):
    assert "retry-without-backoff" not in kinds(entries)


def test_a_wait_after_an_answer_with_retry_after_is_judged_by_retry_after_alone():
    told = [entry(at, 503, retry_after=1) for at in (0.0, 1.1, 2.2, 3.3)]  # waited exactly as told, each time
    assert judge(told) == []


def test_a_row_that_stops_backing_off_is_reported_from_where_its_waits_stop_growing():
    entries = [entry(at, 500) for at in (0.0, 0.1, 0.4, 0.5, 0.6)]
    [verdict] = judge(entries)
    assert verdict["request_ids"] == ["r0.1", "r0.4", "r0.5", "r0.6"]


@pytest.mark.parametrize("key, wording", [
    (KEY, "with an API key the API refused"), (None, "without an X-API-Key")])
def test_ignored_auth_error_is_a_refused_key_sent_three_more_times(key, wording):
    entries = [entry(at, 401, key=key) for at in (0.0, 5.0, 60.0, 120.0)]
    [verdict] = judge(entries)
    assert verdict["kind"] == "ignored-auth-error"
    assert verdict["request_ids"] == ["r0", "r5", "r60", "r120"]
    assert wording in verdict["detail"] and "3 more request(s)" in verdict["detail"]
    assert KEY[1] not in str(verdict)  # not even the key's digest is shown


def test_two_resends_of_a_refused_key_or_another_key_after_it_are_no_verdict():
    assert judge([entry(0.0, 401), entry(1.0, 401), entry(2.0, 401)]) == []
    assert judge([entry(0.0, 401), *(entry(at, key=OTHER_KEY) for at in (1.0, 2.0, 3.0))]) == []


def test_cors_preflights_are_the_browsers_and_never_judged():
    # A request without a key refused, then a browser's preflights (no key, 204) for a page polled by the app.
    preflights = [entry(1.0 + n * 0.1, 204, key=None, method="OPTIONS") for n in range(6)]
    assert judge([entry(0.0, 401, key=None), *preflights]) == []


def test_repeated_request_is_the_same_success_five_times_within_a_second():
    entries = [entry(at) for at in (0.0, 0.2, 0.4, 0.6, 0.8, 0.95, 5.0)]
    [verdict] = judge(entries)
    assert verdict["kind"] == "repeated-request"
    assert verdict["request_ids"] == ["r0", "r0.2", "r0.4", "r0.6", "r0.8", "r0.95"]
    assert verdict["detail"].startswith(f"GET {GENERATED_LISTING} was answered 200 6 times in 0.950 s")


def test_bursts_apart_are_two_verdicts_and_overlapping_windows_one():
    first = [entry(n * 0.2) for n in range(8)]  # 0 to 1.4 s: windows of five overlap all along
    second = [entry(10 + n * 0.1) for n in range(5)]
    verdicts = judge(first + second)
    assert [len(verdict["request_ids"]) for verdict in verdicts] == [8, 5]


@pytest.mark.parametrize("entries", [
    [entry(n * 0.26) for n in range(5)],  # five, but over 1.04 s
    [entry(n * 0.1, query=f"page={n}") for n in range(5)],  # five pages, each once
    [entry(n * 0.1, key=(KEY if n % 2 else OTHER_KEY)) for n in range(6)],  # two clients, three each
    [entry(n * 0.1, 200, fault="truncated-body") for n in range(5)],  # broken answers are no success
])
def test_no_repeated_request_verdict_for_different_or_spread_out_requests(entries):
    assert "repeated-request" not in kinds(entries)


def test_verdicts_are_listed_by_their_first_request():
    entries = [*(entry(10 + n * 0.01) for n in range(5)), *(entry(at, 401, key=None) for at in (1, 2, 3, 4))]
    assert kinds(entries) == ["ignored-auth-error", "repeated-request"]


def test_entries_journalled_before_received_and_retry_after_were_kept_are_judged_by_their_time():
    old = [{key: value for key, value in entry(n * 0.1).items() if key not in ("received", "retry_after")}
           for n in range(5)]
    assert kinds(old) == ["repeated-request"]
