"""A real browser: pages on other origins call the API (CORS) but not the control API; /docs' "try it out" works.

Drives Debian's chromium with Playwright (never Playwright's own browser download). Where no browser
can start, the tests skip and say why (fail under CI=true); `make test` installs chromium as root.
"""

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import (
    API_KEY,
    DOCUMENTED_CHATBOT,
    GENERATED_CHATBOT,
    GENERATED_CONTROL,
    launched_chromium,
    sample_conversations,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

# Bounds for what a page may take: a stuck page fails the test instead of hanging the suite.
TIMEOUT_MS = 20_000
# Names chromium resolves to 127.0.0.1 (--host-resolver-rules), no DNS asked: a foreign site's page, and a
# DNS-rebinding page's name. The page is then on loopback itself, so Local Network Access never prompts.
FOREIGN = "foreign.example.test"
REBOUND = "rebound.example.test"
LISTING = f"/chatbots/{GENERATED_CHATBOT}/conversations?page=2&page_size=4"
PREFER = "seed=7"

# The kind of page a frontend team writes: fetch with the key and a preference, render ids and headers,
# and show what an error answer says (readable only if the 401 carries Access-Control-Allow-Origin).
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>conversations</title></head>
<body>
<p>Status: <span id="status">loading</span></p>
<p>Total: <span id="total"></span></p>
<p>Link: <span id="link"></span></p>
<p>Applied: <span id="applied"></span></p>
<ul id="ids"></ul>
<p>Without a key: <span id="refused-status"></span> <span id="refused-detail"></span>
  <span id="refused-challenge"></span></p>
<script>
const URL_ = __URL__;
async function main() {
  const response = await fetch(URL_, {headers: {"X-API-Key": __KEY__, "Prefer": __PREFER__}});
  document.getElementById("total").textContent = response.headers.get("X-Total-Count");
  document.getElementById("link").textContent = response.headers.get("Link");
  document.getElementById("applied").textContent = response.headers.get("Preference-Applied");
  for (const conversation of await response.json()) {
    const item = document.createElement("li");
    item.textContent = conversation.id;
    document.getElementById("ids").append(item);
  }
  const refused = await fetch(URL_);
  document.getElementById("refused-status").textContent = refused.status;
  document.getElementById("refused-detail").textContent = (await refused.json()).detail;
  document.getElementById("refused-challenge").textContent = refused.headers.get("WWW-Authenticate");
  document.getElementById("status").textContent = "done";
}
main().catch(error => { document.getElementById("status").textContent = "failed: " + error; });
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def browser():
    """Headless chromium, its two test names resolving to this machine, or a skip naming why there is none."""
    yield from launched_chromium(
        sync_api, TIMEOUT_MS, [f"--host-resolver-rules=MAP {FOREIGN} 127.0.0.1, MAP {REBOUND} 127.0.0.1"])


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def page_server():
    """Serve one HTML page from a second localhost port (another origin than the mock's)."""
    servers = []

    def _serve(html, host="127.0.0.1"):
        body = html.encode("utf-8")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if self.path == "/" else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://{host}:{server.server_address[1]}/"

    yield _serve
    for server in servers:
        server.shutdown()
        server.server_close()


def _client_page(mock_url):
    values = {"__URL__": mock_url + LISTING, "__KEY__": API_KEY, "__PREFER__": PREFER}
    html = PAGE
    for placeholder, value in values.items():
        html = html.replace(placeholder, json.dumps(value))
    return html


def _fetch(url):
    request = urllib.request.Request(url, headers={"X-API-Key": API_KEY, "Prefer": PREFER})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response), response.headers


def _finished(page):
    page.wait_for_function("document.getElementById('status').textContent !== 'loading'")
    return page.inner_text("#status")


def test_page_on_another_origin_renders_what_it_fetched(live_server, page_server, page):
    mock = live_server("--workers", "1")
    expected, headers = _fetch(mock.url + LISTING)
    page_url = page_server(_client_page(mock.url))
    assert page_url.split("/")[2] != mock.url.split("/")[2]
    page.goto(page_url)
    assert _finished(page) == "done"
    assert page.locator("#ids li").all_inner_texts() == [c["id"] for c in expected]
    assert len(expected) == 4
    # Headers a script reads only because the mock exposes them.
    assert page.inner_text("#total") == headers["X-Total-Count"]
    assert page.inner_text("#link") == headers["Link"] and 'rel="next"' in headers["Link"]
    assert page.inner_text("#applied") == PREFER
    # An error answer is readable by the page too.
    assert page.inner_text("#refused-status") == "401"
    assert "X-API-Key" in page.inner_text("#refused-detail")
    assert "X-API-Key" in page.inner_text("#refused-challenge")  # null unless exposed


def test_a_page_on_a_foreign_site_calls_the_api(live_server, page_server, page):
    mock = live_server("--workers", "1")
    expected, _ = _fetch(mock.url + LISTING)
    page.goto(page_server(_client_page(mock.url), host=FOREIGN))
    assert _finished(page) == "done"
    assert page.locator("#ids li").all_inner_texts() == [c["id"] for c in expected]


# What a foreign page tries on the control API: read the journal, reset (a simple POST: no preflight),
# set a chatbot (a PUT: preflighted). Each line says what the page could see.
CONTROL_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>control</title></head>
<body><p id="status">loading</p><ul id="results"></ul>
<script>
const MOCK = __MOCK__;
async function attempt(name, url, options) {
  let result;
  try {
    const response = await fetch(url, options);
    result = name + ": " + response.status;
  } catch (error) {
    result = name + ": blocked";
  }
  const item = document.createElement("li");
  item.textContent = result;
  document.getElementById("results").append(item);
}
async function main() {
  await attempt("read", MOCK + "/__mock/requests");
  await attempt("reset", MOCK + "/__mock/reset", {method: "POST", body: "x", headers: {"Content-Type": "text/plain"}});
  await attempt("set", MOCK + __CONTROL__, {method: "PUT", body: "[]", headers: {"Content-Type": "application/json"}});
  document.getElementById("status").textContent = "done";
}
main();
</script></body></html>
"""


def _control_page(mock_url):
    return CONTROL_PAGE.replace("__MOCK__", json.dumps(mock_url)).replace("__CONTROL__", json.dumps(GENERATED_CONTROL))


def _put_conversations(mock_url, conversations):
    request = urllib.request.Request(mock_url + GENERATED_CONTROL, data=json.dumps(conversations).encode(),
                                     method="PUT", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def _set_ids(mock_url):
    with urllib.request.urlopen(mock_url + GENERATED_CONTROL, timeout=10) as response:
        return [c["id"] for c in json.load(response)]


def test_a_page_on_a_foreign_site_can_neither_read_nor_change_the_control_api(live_server, page_server, page):
    mock = live_server("--workers", "1")
    conversations = sample_conversations(GENERATED_CHATBOT, 3)
    _put_conversations(mock.url, conversations)
    page.goto(page_server(_control_page(mock.url), host=FOREIGN))
    assert _finished(page) == "done"
    assert page.locator("#results li").all_inner_texts() == ["read: blocked", "reset: blocked", "set: blocked"]
    # The reset reached the server (no preflight guards a simple request) and was refused there; the PUT
    # stopped at its preflight (the one PUT logged is this test's own).
    log = mock.log()
    assert '"POST /__mock/reset" 403 ' in log and '"OPTIONS /__mock/chatbots/' in log
    assert log.count('"PUT /__mock/') == 1
    assert _set_ids(mock.url) == [c["id"] for c in reversed(conversations)]


def test_a_page_on_this_machine_drives_the_control_api(live_server, page_server, page):
    mock = live_server("--workers", "1")
    _put_conversations(mock.url, sample_conversations(GENERATED_CHATBOT, 3))
    page.goto(page_server(_control_page(mock.url)))  # another loopback origin: a developer's own page
    assert _finished(page) == "done"
    assert page.locator("#results li").all_inner_texts() == ["read: 200", "reset: 204", "set: 204"]
    assert _set_ids(mock.url) == []


def test_a_rebinding_pages_name_reaches_nothing(live_server, page):
    # A page whose name now resolves to 127.0.0.1 is same-origin with the mock: only the Host check stands.
    mock = live_server("--workers", "1")
    rebound = mock.url.replace("127.0.0.1", REBOUND)
    for path in (LISTING, "/__mock/requests", "/docs", "/healthz"):
        response = page.goto(rebound + path)
        assert response.status == 421, path
        assert REBOUND in json.loads(page.inner_text("body"))["detail"]


def test_browser_refuses_an_origin_the_mock_does_not_allow(live_server, page_server, page):
    mock = live_server("--workers", "1", "--cors-origins", "http://localhost:1")
    page.goto(page_server(_client_page(mock.url)))
    assert _finished(page).startswith("failed: TypeError")
    assert page.locator("#ids li").count() == 0


def _try_it_out(page) -> str:
    """Open the operation in Swagger UI, try it out, execute: the status it shows."""
    page.click(".opblock-summary")
    page.click("button.try-out__btn")
    page.click("button.execute")
    status = page.locator(".live-responses-table .response .response-col_status")
    status.wait_for()
    return status.inner_text().strip()


def test_docs_try_it_out_calls_the_server_under_its_base_path(live_server, page, documented_example):
    mock = live_server("--workers", "1", "--base-path", "/v1")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(mock.url + "/docs")
    assert _try_it_out(page) == "200"
    body = page.locator(".live-responses-table .response .response-col_description pre").first.inner_text()
    assert [c["id"] for c in json.loads(body)] == [c["id"] for c in documented_example]
    assert requested[-1] == f"{mock.url}/v1/chatbots/{DOCUMENTED_CHATBOT}/conversations?page=1&page_size=10"
    # Swagger UI and everything it loaded came from the mock: no CDN, no validator badge.
    assert requested and all(
        url.startswith(mock.url + "/") for url in requested if not url.startswith("data:")
    )


def test_docs_authorize_sends_the_key_typed_there_a_wrong_one_too(live_server, page):
    # The key is the document's security scheme: authorized up front with the documented key, and
    # replaced in Authorize, where a wrong key is sent as typed so its 401 can be seen.
    mock = live_server("--workers", "1")
    sent = []
    page.on("request", lambda request: sent.append(request.headers.get("x-api-key")))
    page.goto(mock.url + "/docs")
    page.click("button.authorize")
    page.click(".auth-container button:has-text('Logout')")
    page.fill(".auth-container input", "0" * 47)
    page.click(".auth-container button.authorize")
    page.click("button.btn-done")
    assert _try_it_out(page) == "401"
    assert sent[-1] == "0" * 47
