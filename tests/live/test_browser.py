"""A real browser: a page on another localhost origin calls the mock (CORS), and /docs' "try it out" works.

Drives Debian's chromium with Playwright (never Playwright's own browser download). Where no browser
can start, the tests skip and say why (fail under CI=true); `make test` installs chromium as root.
"""

import json
import os
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import API_KEY, CHROMIUM_ARGS, DOCUMENTED_CHATBOT, GENERATED_CHATBOT, chromium_path, require

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

# Bounds for what a page may take: a stuck page fails the test instead of hanging the suite.
TIMEOUT_MS = 20_000
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
    """Headless chromium, or a skip naming why there is none."""
    executable = chromium_path()
    if not os.path.exists(executable):
        require("chromium")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
            )
        except sync_api.Error as error:
            pytest.skip(f"chromium at {executable} does not start: {str(error).splitlines()[0]}")
        yield launched
        launched.close()


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

    def _serve(html):
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
        return f"http://127.0.0.1:{server.server_address[1]}/"

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
