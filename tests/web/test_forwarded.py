"""Behind a proxy (factory.FORWARDED): the URLs the mock writes are the ones the browser used."""

import pytest

from conversations_mock.factory import FORWARDED
from conversations_mock.web.forwarded import ForwardedOnly
from tests.helpers import API_KEY, GENERATED_CHATBOT, answer, requests_behind

LISTING = f"/chatbots/{GENERATED_CHATBOT}/conversations"
NAMESPACED = f"/__mock/ns/alice{LISTING}"
# A dev server's proxy at /api (Vite, webpack: http-proxy with xfwd and an X-Forwarded-Prefix header).
DEV_SERVER = {"X-Forwarded-Host": "localhost:5173", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "5173",
              "X-Forwarded-Prefix": "/api"}
# nginx with `X-Forwarded-Host $host` (no port) and `X-Forwarded-Port $server_port`, serving https.
NGINX = {"X-Forwarded-Host": "mock.example.test", "X-Forwarded-Port": "8443", "X-Forwarded-Proto": "https"}
# (headers, path asked, the URL its Link header's first link starts with)
CASES = [
    ({}, LISTING, f"http://localhost{LISTING}"),
    (DEV_SERVER, LISTING, f"http://localhost:5173/api{LISTING}"),
    (DEV_SERVER, NAMESPACED, f"http://localhost:5173/api{NAMESPACED}"),
    (NGINX, LISTING, f"https://mock.example.test:8443{LISTING}"),
    (NGINX, NAMESPACED, f"https://mock.example.test:8443{NAMESPACED}"),
    ({"X-Forwarded-Host": "localhost:5173", "X-Forwarded-Proto": "https"}, LISTING,
     f"https://localhost:5173{LISTING}"),
    ({"X-Forwarded-Prefix": "/api/v2"}, LISTING, f"http://localhost/api/v2{LISTING}"),
    # One proxy's worth of each header: the last value, the one the proxy next to the mock added.
    ({"X-Forwarded-Host": "evil.example.test, localhost:3000"}, LISTING, f"http://localhost:3000{LISTING}"),
]
IDS = ["direct", "dev-server", "dev-server-namespace", "nginx", "nginx-namespace", "host-and-proto", "prefix",
       "last-hop"]


def _first_link(response_headers) -> str:
    link = dict(response_headers)["Link"]
    return link[1:link.index("?")]


@pytest.mark.parametrize("headers, path, url", CASES, ids=IDS)
def test_links_are_the_urls_the_browser_used(make_app, headers, path, url):
    app = make_app()
    calls = requests_behind(app, "fast")
    first, repeated = (answer(app, path + "?page=2&page_size=3", headers) for _ in range(2))
    assert len(calls) == 1  # the repeat was the fast path's
    assert first == repeated and first[0] == "200 OK"
    assert _first_link(first[1]) == url


@pytest.mark.parametrize("headers, path, url", CASES, ids=IDS)
def test_the_fast_path_and_the_view_agree_behind_a_proxy(make_app, make_flask_app, headers, path, url):
    fast, view = make_app(), make_flask_app()
    asked = path + "?page=2&page_size=3&state=closed"
    expected = answer(view, asked, headers)
    # First (through Flask), repeated (the fast path's memo), then a page the fast path loads itself.
    assert [answer(fast, asked, headers) for _ in range(3)] == [expected] * 3
    other = path.replace(GENERATED_CHATBOT, "11111111-2222-4333-8444-555555555555")
    assert answer(fast, other, headers) == answer(view, other, headers)


def test_each_proxys_values_get_their_own_links(make_app):
    app = make_app()
    seen = {}
    for _ in range(2):  # the second round is the fast path's: each answer from its own proxy's memo
        for index, (headers, _, url) in enumerate(CASES):
            got = _first_link(answer(app, LISTING, headers)[1])
            assert seen.setdefault(index, got) == got
    assert len(set(seen.values())) == len({url for headers, path, url in CASES if path == LISTING})


def test_the_docs_and_the_document_are_found_under_the_prefix(make_app):
    client = make_app().test_client()
    html = client.get("/docs/", headers=DEV_SERVER).get_data(as_text=True)
    assert 'data-spec-url="/api/openapi.json"' in html and 'src="/api/docs/init.js"' in html


@pytest.mark.parametrize("base_path", ["", "/v1"])
@pytest.mark.parametrize("mount, headers", [("/api", DEV_SERVER), ("/__mock/ns/alice", {}),
                                            ("/api/__mock/ns/alice", DEV_SERVER)])
def test_every_url_of_the_root_and_the_document_keeps_the_prefix(make_app, base_path, mount, headers):
    client = make_app({"base_path": base_path}).test_client()
    served = mount.removeprefix("/api")  # what the proxy asks of the mock: its prefix taken off
    links = client.get(served + "/", headers=headers).json
    for name in ("docs", "openapi", "api", "example", "health"):
        assert links[name].startswith(mount + "/"), name
    document = client.get(served + "/openapi.json", headers=headers).json
    # Swagger UI's "try it out" calls these: the API under its base path, the control API at the root.
    assert document["servers"][0]["url"] == mount + base_path
    control = [item.get("servers", document["servers"])[0]["url"] for name, item in document["paths"].items()
               if name.startswith("/__mock/")]
    assert len(control) >= 4 and set(control) == {mount}


def test_x_forwarded_for_never_makes_a_client_local(make_app):
    # Without an admin token the control API answers loopback clients only: a header must not fake one.
    client = make_app().test_client()
    remote = {"REMOTE_ADDR": "192.0.2.7"}
    forged = client.get("/__mock/requests", headers={"X-Forwarded-For": "127.0.0.1"},
                        environ_overrides=remote)
    assert forged.status_code == 403
    local = client.get("/__mock/requests", headers={"X-Forwarded-For": "192.0.2.7"})
    assert local.status_code == 200



@pytest.mark.parametrize("headers, path, url", [CASES[2], CASES[3]], ids=["dev-server-namespace", "nginx"])
def test_through_gunicorn_the_links_keep_the_proxys_url(live_server, headers, path, url):
    # gunicorn reads X-Forwarded-Proto itself from a loopback peer (secure_scheme_headers): the same answer.
    import http.client
    from urllib.parse import urlsplit

    server = urlsplit(live_server("--workers", "1").url)
    connection = http.client.HTTPConnection(server.hostname, server.port, timeout=10)
    links = []
    for _ in range(2):  # through Flask, then the fast path
        connection.request("GET", path + "?page=2&page_size=3", headers={"X-API-Key": API_KEY, **headers})
        response = connection.getresponse()
        response.read()
        links.append(response.getheader("Link"))
    connection.close()
    assert links[0] == links[1] and _first_link([("Link", links[0])]) == url


@pytest.mark.parametrize("forwarded", [{}, {"HTTP_X_FORWARDED_HOST": "mock.example.test"},
                                       {"HTTP_X_FORWARDED_PREFIX": "/api"}, {"HTTP_X_FORWARDED_PROTO": "https"}])
def test_proxy_fix_runs_only_for_a_request_that_was_forwarded(forwarded):
    seen = []
    layer = ForwardedOnly(lambda environ, start_response: seen.append(dict(environ)) or [], **FORWARDED)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": "", "HTTP_HOST": "127.0.0.1:8000",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "wsgi.url_scheme": "http", **forwarded}
    layer(dict(environ), None)
    # Untouched unless a trusted header came; rewritten by ProxyFix when one did.
    assert ("werkzeug.proxy_fix.orig" in seen[0]) == bool(forwarded)
    if not forwarded:
        assert seen[0] == environ
