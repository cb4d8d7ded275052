"""The dashboard in a real browser: the live journal and its reconnections, data, failures, what asks
first, clock, namespaces, keyboard, axe-core, injection.

Drives Debian's chromium with Playwright, as tests/live/test_browser.py. Each view's screenshot is kept in
docs/img/dashboard-*.png (docs/dashboard.md shows them): written where missing, rewritten with UPDATE_SCREENSHOTS=1. axe-core comes from the npm registry at test time.
"""

import json
import os
import subprocess
import threading
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from conversations_mock.factory import create_app
from conversations_mock.web import dashboard as dashboard_module

from tests.helpers import (
    API_KEY,
    GENERATED_CHATBOT,
    REPO,
    launched_chromium,
    require,
    sample_conversations,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

TIMEOUT_MS = 20_000
LISTING = f"/chatbots/{GENERATED_CHATBOT}/conversations"
SCREENSHOTS = REPO / "docs" / "img"
AXE = "axe-core@4"
# How long the journal's stream lasts in the reconnection test (seconds); the server's is 300.
STREAM_S = 2.0


@pytest.fixture(scope="module")
def browser():
    """Headless chromium, or a skip naming why there is none."""
    yield from launched_chromium(sync_api, TIMEOUT_MS)


@pytest.fixture
def mock(live_server):
    # One worker: its stream open, the same worker answers the page's calls and the API (gevent: a greenlet each).
    return live_server("--workers", "1")


def opened_dashboard(browser, mock):
    """The dashboard of `mock`, open and its stream connected; dialogs and script errors recorded.

    A generator for a fixture: the browser's context is closed after it.
    """
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.problems = []
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("pageerror", lambda error: page.problems.append(f"error: {error}"))
    page.goto(mock.url + "/__mock/ui")
    sync_api.expect(page.locator("#stream-state")).to_contain_text("Live")
    yield page
    context.close()


@pytest.fixture
def dashboard(browser, mock):
    """The dashboard of a fresh server, open and its stream connected."""
    yield from opened_dashboard(browser, mock)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@pytest.fixture
def short_streams(monkeypatch):
    """The mock served in this process, its journal's stream ending every STREAM_S seconds (as the real
    one does every 5 minutes, or on a network blip): the browser reconnects each time."""
    monkeypatch.setattr(dashboard_module, "STREAM_S", STREAM_S)
    app = create_app({}, environ={})
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()


@pytest.fixture
def reconnecting_dashboard(browser, short_streams):
    """The dashboard of `short_streams`, open and its stream connected."""
    yield from opened_dashboard(browser, short_streams)


def call(mock, path, headers=None, method="GET", body=None):
    """A request to the mock as an app would make it; (status, body as text)."""
    request = urllib.request.Request(mock.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def api(mock, path=LISTING, namespace=None, **headers):
    headers = {"X-API-Key": API_KEY, **headers, **({"X-Mock-Namespace": namespace} if namespace else {})}
    return call(mock, path, headers)


def shot(page, view):
    """Take a screenshot of one view; keep it for the docs where it is missing, or all with UPDATE_SCREENSHOTS=1.

    Every run takes them (a view that cannot be drawn fails here); one that changes only its times and
    ports does not rewrite the committed pictures, so `make test` leaves the tree as it found it.
    """
    png = page.locator(f"#{view}").screenshot()
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    kept = SCREENSHOTS / f"dashboard-{view}.png"
    if not kept.exists() or os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(png)


def test_a_request_made_after_the_page_loaded_appears_and_opens_to_its_details(dashboard, mock):
    rows = dashboard.locator("#entries > li:not([hidden])")
    assert rows.count() == 0
    api(mock, LISTING + "?page=2", **{"X-Request-ID": "from-the-app", "Prefer": "seed=7"})
    api(mock, LISTING + "?page=0")  # a 422 with a detail
    sync_api.expect(rows).to_have_count(2)
    newest, oldest = rows.nth(0), rows.nth(1)
    sync_api.expect(newest).to_contain_text("422")
    oldest.locator("summary").click()
    details = oldest.locator("dl").first
    sync_api.expect(details).to_contain_text("from-the-app")
    sync_api.expect(details).to_contain_text("seed=7")  # the preferences applied
    sync_api.expect(details).to_contain_text("X-Api-Key***")  # masked as in the journal
    assert API_KEY not in dashboard.content()
    newest.locator("summary").click()
    sync_api.expect(newest.locator("dl").first).to_contain_text("page")  # the problem's detail names it
    # Filters: status, then path.
    dashboard.fill("#filter-status", "4xx")
    sync_api.expect(rows).to_have_count(1)
    dashboard.fill("#filter-status", "")
    dashboard.fill("#filter-path", "/nothing")
    sync_api.expect(rows).to_have_count(0)
    dashboard.fill("#filter-path", "")
    sync_api.expect(rows).to_have_count(2)
    assert dashboard.problems == []
    shot(dashboard, "journal")


def request_ids(page):
    """The request ids of the journal's rows, top to bottom (each row's last fact)."""
    return page.evaluate("""() => [...document.querySelectorAll("#entries > li")]
        .map((row) => row.querySelector("details > dl > dd:last-of-type").textContent)""")


def test_rows_shown_stay_as_they_were_when_the_stream_reconnects(reconnecting_dashboard, short_streams):
    page, mock = reconnecting_dashboard, short_streams
    rows = page.locator("#entries > li")
    api(mock, LISTING + "?page=2", **{"X-Request-ID": "opened"})
    api(mock, LISTING + "?page=0", **{"X-Request-ID": "refused"})  # a 422, hidden by the filter
    sync_api.expect(rows).to_have_count(2)
    page.fill("#filter-status", "2xx")
    opened = rows.filter(has_text="page=2")
    opened.locator("summary").click()
    sent = ["refused", "opened"]
    for round_ in range(2):
        # The server ends the stream after STREAM_S; the page's EventSource opens the next.
        with page.expect_request(lambda request: "/__mock/ui/stream" in request.url, timeout=TIMEOUT_MS):
            pass
        sent.insert(0, f"after-reconnection-{round_}")
        api(mock, LISTING + f"?page={3 + round_}", **{"X-Request-ID": sent[0]})
        sync_api.expect(rows).to_have_count(len(sent))  # the new one, and no row twice
        sync_api.expect(rows.first).to_contain_text(f"page={3 + round_}")  # newest first
        assert opened.locator("details").evaluate("(details) => details.open")
        assert request_ids(page) == sent
        # Still filtered: the 422 stays hidden.
        sync_api.expect(page.locator("#entries > li:not([hidden])")).to_have_count(len(sent) - 1)
    assert page.problems == []


def test_conversations_set_in_the_editor_are_what_the_api_answers(dashboard, mock):
    dashboard.fill("#chatbot-id", GENERATED_CHATBOT)
    wrong = sample_conversations(GENERATED_CHATBOT, 2)
    wrong[1]["platform"] = "carrier-pigeon"
    dashboard.fill("#conversations", json.dumps(wrong))
    dashboard.click("#editor-form button[type=submit]")
    errors = dashboard.locator("#editor-errors li")
    sync_api.expect(errors).to_have_count(1)
    sync_api.expect(errors.first).to_contain_text("[1].platform")  # beside its field path
    right = sample_conversations(GENERATED_CHATBOT, 3)
    dashboard.fill("#conversations", json.dumps(right))
    dashboard.click("#editor-form button[type=submit]")
    sync_api.expect(errors).to_have_count(0)
    sync_api.expect(dashboard.locator("#chatbots")).to_contain_text("(3 conversations)")
    status, body = api(mock)
    assert status == 200 and sorted(item["id"] for item in json.loads(body)) == sorted(item["id"] for item in right)
    # Generated ones, into the editor, then set.
    dashboard.fill("#generate-count", "4")
    dashboard.fill("#generate-seed", "5")
    dashboard.click("#generate-form button[type=submit]")
    sync_api.expect(dashboard.locator("#status")).to_contain_text("4 generated conversations")
    dashboard.click("#editor-form button[type=submit]")
    sync_api.expect(dashboard.locator("#chatbots")).to_contain_text("(4 conversations)")
    assert len(json.loads(api(mock)[1])) == 4
    shot(dashboard, "data")
    # Delete it: the chatbot answers its generated conversations again.
    dashboard.get_by_role("button", name=f"Delete chatbot {GENERATED_CHATBOT}'s conversations").click()
    dashboard.locator("#confirm").get_by_role("button", name="Delete").click()
    sync_api.expect(dashboard.locator("#no-chatbots")).to_be_visible()
    assert len(json.loads(api(mock)[1])) != 4
    assert dashboard.problems == []


def test_a_fault_rule_added_fails_the_next_request_and_removed_no_more(dashboard, mock):
    dashboard.click("#preset-down")
    dashboard.fill("#rule", '{"times": 2, "answer": {"code": 503}}')
    dashboard.click("#rule-form button[type=submit]")
    rules = dashboard.locator("#rules li")
    sync_api.expect(rules).to_have_count(1)
    sync_api.expect(rules.first).to_contain_text("2 left of 2")
    assert api(mock)[0] == 503
    sync_api.expect(rules.first).to_contain_text("1 left of 2")  # the journal's stream refreshes it
    # A second rule keeps what is left of the first.
    dashboard.fill("#rule", '{"answer": {"delay": 10}, "match": {"page": 3}}')
    dashboard.click("#rule-form button[type=submit]")
    sync_api.expect(rules).to_have_count(2)
    sync_api.expect(rules.first).to_contain_text("1 left of 1")
    # A wrong rule: its error beside its path, the rules in force kept.
    dashboard.fill("#rule", '{"answer": {"code": 299}}')
    dashboard.click("#rule-form button[type=submit]")
    sync_api.expect(dashboard.locator("#rule-errors li")).to_contain_text("[2].answer.code")
    sync_api.expect(rules).to_have_count(2)
    # The rate limit.
    dashboard.fill("#rate", "100/min")
    dashboard.click("#rate-form button[type=submit]")
    sync_api.expect(dashboard.locator("#rate-limit-state")).to_contain_text("100/min (this namespace's own)")
    shot(dashboard, "failures")
    dashboard.get_by_role("button", name="Remove rule 1").click()
    sync_api.expect(rules).to_have_count(1)
    assert api(mock)[0] == 200
    dashboard.click("#forget-rate")
    sync_api.expect(dashboard.locator("#rate-limit-state")).to_contain_text("the server's")
    assert dashboard.problems == []


def test_the_clock_and_verdicts_are_shown(dashboard, mock):
    sync_api.expect(dashboard.locator("#clock-instant")).to_contain_text("T")
    health = json.loads(call(mock, "/healthz")[1])["clock"]
    sync_api.expect(dashboard.locator("#clock-mode")).to_have_text(health["mode"])
    if call(mock, "/__mock/verdicts")[0] == 404:  # a server before GET /__mock/verdicts
        sync_api.expect(dashboard.locator("#verdicts-state")).to_have_text("No verdicts endpoint on this server.")
    else:
        sync_api.expect(dashboard.locator("#verdicts-state")).to_have_text("Nothing noticed so far.")
        for _ in range(4):  # a refused key sent again and again
            call(mock, LISTING, {"X-API-Key": "not-a-key"})
        verdict = dashboard.locator("#verdicts li")
        sync_api.expect(verdict).to_contain_text("ignored-auth-error", timeout=15_000)  # read every 5 s
    shot(dashboard, "clock")


def test_each_namespace_shows_its_own_journal_and_data(dashboard, mock):
    api(mock, LISTING + "?page=2", namespace="team-a")
    api(mock, LISTING + "?page=3", namespace="team-b")
    body = json.dumps(sample_conversations(GENERATED_CHATBOT, 2)).encode()
    call(mock, f"/__mock{LISTING}", {"Content-Type": "application/json", "X-Mock-Namespace": "team-b"}, "PUT", body)
    rows = dashboard.locator("#entries > li")
    sync_api.expect(rows).to_have_count(0)  # default saw none of them
    dashboard.fill("#namespace", "team-b")
    dashboard.press("#namespace", "Enter")
    sync_api.expect(rows).to_have_count(1)
    sync_api.expect(rows.first).to_contain_text("page=3")
    sync_api.expect(dashboard.locator("#chatbots")).to_contain_text("(2 conversations)")
    api(mock, LISTING + "?page=4", namespace="team-b")
    api(mock, LISTING + "?page=5", namespace="team-a")
    sync_api.expect(rows).to_have_count(2)
    dashboard.click("#reset-namespace")
    dashboard.locator("#confirm").get_by_role("button", name="Reset").click()
    sync_api.expect(rows).to_have_count(0)
    sync_api.expect(dashboard.locator("#no-chatbots")).to_be_visible()
    assert "namespace=team-b" in dashboard.url


def _set_conversations(mock, namespace):
    body = json.dumps(sample_conversations(GENERATED_CHATBOT, 2)).encode()
    headers = {"Content-Type": "application/json", "X-Mock-Namespace": namespace}
    assert call(mock, f"/__mock{LISTING}", headers, "PUT", body)[0] == 204


def _set_a_rule(mock, namespace):
    body = json.dumps([{"answer": {"code": 503}}]).encode()
    headers = {"Content-Type": "application/json", "X-Mock-Namespace": namespace}
    assert call(mock, "/__mock/faults", headers, "PUT", body)[0] == 204


def _conversations_set(mock, namespace):
    status, body = api(mock, namespace=namespace)
    return status == 200 and len(json.loads(body)) == 2


def _rule_in_force(mock, namespace):
    return api(mock, namespace=namespace)[0] == 503


# What each button throws away: how to set it up, the button, what the page shows once it is done, and
# whether the API still answers it.
DESTRUCTIVE = {
    "reset": (_set_conversations, "#reset-namespace", "#no-chatbots", _conversations_set),
    "delete": (_set_conversations, f"[aria-label=\"Delete chatbot {GENERATED_CHATBOT}'s conversations\"]",
               "#no-chatbots", _conversations_set),
    "remove-every-rule": (_set_a_rule, "#clear-rules", "#no-rules", _rule_in_force),
}


@pytest.mark.parametrize("action", list(DESTRUCTIVE))
def test_throwing_a_set_up_away_asks_first_with_the_mouse_or_the_keyboard(dashboard, mock, action):
    set_up, opener, done, kept = DESTRUCTIVE[action]
    set_up(mock, "demo")
    dashboard.goto(mock.url + "/__mock/ui?namespace=demo")
    sync_api.expect(dashboard.locator(done)).to_be_hidden()  # the page shows what is set
    dialog = dashboard.locator("#confirm")
    # The mouse: Cancel keeps it.
    dashboard.click(opener)
    sync_api.expect(dialog).to_be_visible()
    sync_api.expect(dialog).to_contain_text("demo")
    if action == "reset":
        shot(dashboard, "confirm")
    dialog.get_by_role("button", name="Cancel").click()
    sync_api.expect(dialog).to_be_hidden()
    assert kept(mock, "demo")
    # The keyboard: the focus moves into the dialog, Escape cancels and gives the focus back.
    dashboard.focus(opener)
    dashboard.keyboard.press("Enter")
    sync_api.expect(dialog).to_be_visible()
    assert dashboard.evaluate("document.activeElement.id") == "confirm-cancel"
    dashboard.keyboard.press("Escape")
    sync_api.expect(dialog).to_be_hidden()
    assert dashboard.locator(opener).evaluate("(node) => node === document.activeElement")
    assert kept(mock, "demo")
    # Tab to the action, Enter: done.
    dashboard.keyboard.press("Enter")
    sync_api.expect(dialog).to_be_visible()
    dashboard.keyboard.press("Tab")
    assert dashboard.evaluate("document.activeElement.id") == "confirm-yes"
    dashboard.keyboard.press("Enter")
    sync_api.expect(dialog).to_be_hidden()
    sync_api.expect(dashboard.locator(done)).to_be_visible()
    assert not kept(mock, "demo")
    # A keyboard user goes on from where they were, not from the top of the page.
    assert dashboard.evaluate("document.activeElement.tagName") not in ("BODY", None)
    assert dashboard.problems == []


def test_every_control_is_labelled_and_used_from_the_keyboard(dashboard, mock):
    unlabelled = dashboard.evaluate(
        """() => [...document.querySelectorAll("input, textarea, select")]
            .filter((field) => !field.labels.length && !field.getAttribute("aria-label")).map((field) => field.id)"""
    )
    assert unlabelled == []
    api(mock)
    sync_api.expect(dashboard.locator("#entries > li")).to_have_count(1)
    # Tab from the top to the first row, open it with Enter.
    dashboard.locator("body").focus()
    for _ in range(30):
        dashboard.keyboard.press("Tab")
        if dashboard.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    dashboard.keyboard.press("Enter")
    assert dashboard.locator("#entries details").first.evaluate("(details) => details.open")
    # Add a rule with the keyboard alone: focus the preset, press it, Tab to the submit button.
    dashboard.focus("#preset-slow")
    dashboard.keyboard.press("Enter")
    assert dashboard.evaluate("document.activeElement.id") == "rule"
    dashboard.focus("#rule-form button[type=submit]")
    dashboard.keyboard.press("Enter")
    sync_api.expect(dashboard.locator("#rules li")).to_have_count(1)


@pytest.fixture(scope="module")
def axe_source(tmp_path_factory):
    """axe-core's axe.min.js, from the npm registry."""
    npm = require("npm")
    folder = tmp_path_factory.mktemp("axe")
    (folder / "package.json").write_text('{"private": true}\n', encoding="utf-8")
    installed = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", AXE], cwd=folder,
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    return (folder / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


def test_axe_core_finds_no_serious_or_critical_violation(dashboard, mock, axe_source):
    api(mock, LISTING, **{"Prefer": "seed=3"})
    sync_api.expect(dashboard.locator("#entries > li")).to_have_count(1)
    dashboard.locator("#entries summary").first.click()
    dashboard.fill("#rule", '{"answer": {"code": 999}}')
    dashboard.click("#rule-form button[type=submit]")
    sync_api.expect(dashboard.locator("#rule-errors li")).to_have_count(1)
    # Evaluated through the DevTools protocol: the page's policy allows no inline script, rightly.
    dashboard.evaluate(axe_source + "\n;undefined")
    assert serious_violations(dashboard) == []
    # With the confirmation dialog open.
    dashboard.click("#reset-namespace")
    sync_api.expect(dashboard.locator("#confirm")).to_be_visible()
    assert serious_violations(dashboard) == []


def serious_violations(page):
    """axe-core's serious and critical violations on the page as it is: (rule, impact, elements)."""
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [(v["id"], v["impact"], [node["target"] for node in v["nodes"]])
            for v in violations if v["impact"] in ("serious", "critical")]


def test_with_an_admin_token_a_browser_logs_in_and_the_dashboard_works(browser, live_server):
    token = "a-token-for-the-dashboard-test-0123456789"
    mock = live_server("--workers", "1", "--admin-token", token)
    assert call(mock, "/__mock/ui")[0] == 401  # a browser without the login is refused (it prompts for one)
    context = browser.new_context(http_credentials={"username": "me", "password": token})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(mock.url + "/__mock/ui")
    sync_api.expect(page.locator("#stream-state")).to_contain_text("Live")
    api(mock)
    sync_api.expect(page.locator("#entries > li")).to_have_count(1)
    page.click("#preset-down")
    page.click("#rule-form button[type=submit]")
    sync_api.expect(page.locator("#rules li")).to_have_count(1)
    assert api(mock)[0] == 503
    context.close()


PAYLOAD = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>"


def test_journalled_markup_is_shown_as_text_and_runs_nothing(dashboard, mock):
    quoted = urllib.request.quote(PAYLOAD, safe="")
    call(mock, f"/chatbots/{quoted}/conversations?q={quoted}", {"X-API-Key": API_KEY, "X-Note": PAYLOAD,
                                                                   "User-Agent": PAYLOAD})
    rows = dashboard.locator("#entries > li")
    sync_api.expect(rows).to_have_count(1)
    rows.first.locator("summary").click()
    sync_api.expect(rows.first.locator("dl").first).to_contain_text(PAYLOAD)  # the header, as text
    assert dashboard.evaluate("window.pwned") is None
    assert dashboard.locator("#entries img, #entries script").count() == 0
    assert dashboard.problems == []
