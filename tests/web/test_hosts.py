"""The Host check (web/hosts.py): bound to loopback, only requests addressed to this machine are answered."""

import pytest

from conversations_mock import ConfigError
from conversations_mock.web.hosts import HostCheck, host_name
from tests.helpers import API_KEY, GENERATED_CHATBOT, sample_conversations
from tests.helpers import GENERATED_CONTROL as CONTROL
from tests.helpers import GENERATED_LISTING as LISTING

SETTING = "allowed_hosts (--allowed-hosts / MOCK_ALLOWED_HOSTS)"
LOCAL_HOSTS = ["localhost", "localhost:8000", "LOCALHOST.:8000", "127.0.0.1:8000", "127.1.2.3", "[::1]:8000",
               "[::1]", "app.localhost:5173"]
# What a DNS-rebinding page sends (its own name), and look-alikes of local names.
FOREIGN_HOSTS = ["evil.example.test:8000", "evil.example.test", "localhost.evil.example.test",
                 "127.0.0.1.nip.io:8000", "10.0.0.7:8000", "[2001:db8::1]:8000", "localhost:8000@evil", ""]
# Every kind of route: the API (plain, under a namespace), the control API, documents, health, the root.
ROUTES = [("GET", LISTING), ("GET", "/__mock/ns/alice" + LISTING), ("GET", "/__mock/requests"),
          ("POST", "/__mock/reset"), ("PUT", CONTROL), ("GET", "/docs/"), ("GET", "/openapi.json"),
          ("GET", "/healthz"), ("GET", "/"), ("GET", "/nowhere"), ("OPTIONS", LISTING)]


def _open(client, method, path, host, headers=None):
    return client.open(path, method=method, headers={"X-API-Key": API_KEY, **(headers or {})},
                       environ_overrides={"HTTP_HOST": host})


@pytest.mark.parametrize("host", LOCAL_HOSTS)
def test_a_loopback_mock_answers_requests_addressed_to_this_machine(client, host):
    for _ in range(2):  # the second from the verdict remembered
        assert _open(client, "GET", LISTING, host).status_code == 200


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize("host", FOREIGN_HOSTS[:3])
def test_a_rebinding_page_reaches_nothing(client, method, path, host):
    conversations = sample_conversations(GENERATED_CHATBOT, 2)
    assert client.put(CONTROL, json=conversations).status_code == 204
    client.delete("/__mock/requests")
    # Same-origin after rebinding, the page may send any header it likes but Host: X-Forwarded-Host too.
    for headers in ({}, {"X-Forwarded-Host": "localhost:8000"}):
        refused = _open(client, method, path, host, headers)
        assert refused.status_code == 421 and refused.content_type == "application/problem+json"
        assert refused.json["title"] == "Misdirected Request"
        assert repr(host) in refused.json["detail"] and SETTING in refused.json["detail"]
        assert refused.headers["X-Request-ID"] and "Access-Control-Allow-Origin" not in refused.headers
    assert [c["id"] for c in client.get(CONTROL).json] == [c["id"] for c in reversed(conversations)]
    assert client.get("/__mock/requests").json == []  # nor is it journalled


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_every_other_name_or_address_is_refused_on_loopback(client, host):
    assert _open(client, "GET", "/healthz", host).status_code == 421


def test_a_proxys_forwarded_host_is_trusted_once_the_connections_host_passed(client):
    # nginx or a dev server's proxy in front: the Host it connected with is local, the browser's forwarded.
    forwarded = {"X-Forwarded-Host": "mock.example.test"}
    response = _open(client, "GET", LISTING + "?page=2", "127.0.0.1:8000", forwarded)
    assert response.status_code == 200 and "<http://mock.example.test/" in response.headers["Link"]


@pytest.mark.parametrize("allowed, host, answered", [
    ("mock.example.test", "mock.example.test:8000", True),
    ("mock.example.test", "MOCK.example.test.", True),
    ("mock.example.test", "other.example.test", False),
    (".example.test", "example.test", True),
    (".example.test", "a.b.example.test:443", True),
    (".example.test", "badexample.test", False),
    ("mock.example.test", "localhost:8000", True),  # loopback names stay answered
    ("*", "anything.example.test", True),
])
def test_allowed_hosts_adds_names(make_app, allowed, host, answered):
    client = make_app({"allowed_hosts": allowed}).test_client()
    assert _open(client, "GET", LISTING, host).status_code == (200 if answered else 421)


@pytest.mark.parametrize("host", FOREIGN_HOSTS[:-1])
def test_bound_past_loopback_any_host_is_answered_unless_names_are_given(make_app, host):
    client = make_app({"host": "0.0.0.0", "admin_token": "t" * 32}).test_client()
    assert _open(client, "GET", LISTING, host).status_code == 200


@pytest.mark.parametrize("host, answered", [
    # Probes address a pod by its IP.
    ("mock.example.test:8000", True), ("10.0.0.7:8000", True), ("[2001:db8::1]", True),
    ("127.0.0.1:8000", True), ("evil.example.test", False), ("localhost.evil.example.test", False),
])
def test_bound_past_loopback_with_names_given_those_and_addresses_are_answered(make_app, host, answered):
    config = {"host": "0.0.0.0", "admin_token": "t" * 32, "allowed_hosts": "mock.example.test"}
    client = make_app(config).test_client()
    assert _open(client, "GET", "/healthz", host).status_code == (200 if answered else 421)


def test_a_request_without_a_host_is_answered():
    # HTTP/1.0 may leave Host out; no browser does.
    check = HostCheck(lambda environ, start: [b"answered"], bound="127.0.0.1")
    assert check({"PATH_INFO": "/"}, lambda status, headers: None) == [b"answered"]


@pytest.mark.parametrize("value, name", [("LocalHost:80", "localhost"), ("[::1]:8000", "::1"), ("::1", "::1"),
                                         ("a.example.test.", "a.example.test"), ("h:x", "h:x")])
def test_host_name(value, name):
    assert host_name(value) == name


@pytest.mark.parametrize("value", ["http://mock.example.test", "mock.example.test:8000", "a/b", "-x.test"])
def test_bad_allowed_hosts_stop_startup_with_a_message(make_app, value):
    with pytest.raises(ConfigError) as raised:
        make_app({"allowed_hosts": value})
    assert SETTING in str(raised.value) and "is not a host name" in str(raised.value)
