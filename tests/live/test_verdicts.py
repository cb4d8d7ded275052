"""GET /__mock/verdicts on a real server: urllib3's Retry earns none, a naive loop earns each kind."""

import http.client
import json
import time
import urllib.error
import urllib.request

import pytest
import urllib3
from urllib3.util.retry import Retry

from tests.helpers import API_KEY, GENERATED_CHATBOT

PAGE = f"/chatbots/{GENERATED_CHATBOT}/conversations"


def control(url, method="GET", body=None):
    """(status, parsed body or None) of a control request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        content = response.read()
        return response.status, json.loads(content) if content else None


def verdicts(base):
    status, found = control(base + "/__mock/verdicts")
    assert status == 200
    return found


def polite(retry_on):
    """A PoolManager retrying `retry_on` statuses and broken connections: honours Retry-After, backs off."""
    retry = Retry(total=8, status_forcelist=retry_on, backoff_factor=0.1, respect_retry_after_header=True)
    return urllib3.PoolManager(retries=retry, timeout=10)


@pytest.fixture
def server(live_server):
    return live_server("--workers", "2")


@pytest.mark.parametrize("rules, retry_on", [
    ([{"times": 2, "answer": {"code": 503, "retry_after": 1}}], [503]),  # 503 twice, then 200
    ([{"times": 3, "answer": {"code": 429, "retry_after": 1}}], [429]),
    ([{"times": 4, "answer": {"code": 500}}], [500]),  # no Retry-After: urllib3's backoff
    ([{"times": 3, "answer": {"fault": "connection-reset"}}], []),
    ([{"times": 3, "answer": {"fault": "empty-response"}}], []),
])
def test_urllib3_retry_against_fault_rules_earns_no_verdict(server, rules, retry_on):
    base = server.url + "/__mock/ns/polite"
    assert control(base + "/__mock/faults", "PUT", rules)[0] == 204
    with polite(retry_on) as http:
        page = http.request("GET", base + PAGE, headers={"X-API-Key": API_KEY})
    assert page.status == 200 and len(page.retries.history) == rules[0]["times"]
    assert verdicts(base) == []


def test_urllib3_retry_under_the_rate_limit_earns_no_verdict(server):
    base = server.url + "/__mock/ns/limited"
    assert control(base + "/__mock/rate-limit", "PUT", {"rate_limit": "3/s"})[0] == 204
    with polite([429]) as http:
        pages = [http.request("GET", f"{base}{PAGE}?page={n}", headers={"X-API-Key": API_KEY})
                 for n in range(1, 8)]
    assert [page.status for page in pages] == [200] * 7
    assert sum(len(page.retries.history) for page in pages) >= 2  # it was refused, and waited
    assert verdicts(base) == []


def naive_get(url, key=API_KEY):
    """One GET, no retry: its status, 0 when the connection broke."""
    request = urllib.request.Request(url, headers={"X-API-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except (urllib.error.URLError, http.client.HTTPException, OSError):  # a broken connection or body
        return 0


def until_it_works(url, pause=0.0, attempts=8):
    """A naive retry loop: the same request again after a fixed pause until it is answered 200."""
    for _ in range(attempts):
        if naive_get(url) == 200:
            return
        time.sleep(pause)


@pytest.mark.parametrize("rules, pause", [
    ([{"times": 4, "answer": {"code": 500}}], 0.05),
    ([{"times": 4, "answer": {"fault": "connection-reset"}}], 0.0),
    ([{"times": 4, "answer": {"fault": "truncated-body"}}], 0.02),
])
def test_a_loop_with_a_fixed_pause_earns_retry_without_backoff(server, rules, pause):
    base = server.url + "/__mock/ns/naive"
    control(base + "/__mock/faults", "PUT", rules)
    until_it_works(base + PAGE, pause)
    [verdict] = verdicts(base)
    # Four failures: even if a stall on this busy machine lengthens one wait, three in a row stay flat.
    assert verdict["kind"] == "retry-without-backoff" and 3 <= len(verdict["request_ids"]) <= 4


def test_a_loop_that_ignores_retry_after_earns_retry_before_retry_after(server):
    base = server.url + "/__mock/ns/naive"
    control(base + "/__mock/faults", "PUT", [{"times": 3, "answer": {"code": 503, "retry_after": 2}}])
    until_it_works(base + PAGE, 0.05)
    [verdict] = verdicts(base)
    assert verdict["kind"] == "retry-before-retry-after" and len(verdict["request_ids"]) == 4
    assert "asked to wait 2 s" in verdict["detail"]


def test_a_loop_that_ignores_the_rate_limit_earns_retry_before_retry_after(server):
    base = server.url + "/__mock/ns/naive"
    control(base + "/__mock/rate-limit", "PUT", {"rate_limit": "2/min"})
    statuses = [naive_get(f"{base}{PAGE}?page={n}") for n in range(1, 6)]
    assert statuses == [200, 200, 429, 429, 429]
    [verdict] = verdicts(base)
    assert verdict["kind"] == "retry-before-retry-after" and "after a 429" in verdict["detail"]


def test_a_loop_that_resends_a_refused_key_earns_ignored_auth_error(server):
    base = server.url + "/__mock/ns/naive"
    statuses = [naive_get(base + PAGE, key="expired-key") for _ in range(4)]
    assert statuses == [401] * 4
    [verdict] = verdicts(base)
    assert verdict["kind"] == "ignored-auth-error" and "expired-key" not in json.dumps(verdict)


def test_a_loop_that_fetches_the_same_page_again_earns_repeated_request(server):
    base = server.url + "/__mock/ns/naive"
    for _ in range(6):
        naive_get(base + PAGE)
    [verdict] = verdicts(base)
    assert verdict["kind"] == "repeated-request" and len(verdict["request_ids"]) == 6
