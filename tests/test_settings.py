"""Settings through create_app: a wrong value names the setting, its flag and its variable."""

import os

import pytest

from conversations_mock import ConfigError, create_app
from conversations_mock.settings import SETTINGS, load_settings
from tests.helpers import API_KEY, GENERATED_CHATBOT, REPO

MAX_SEED = str(2**63 - 1)
BAD_VALUES = [
    ("port", "x", "Not a valid integer; give a whole number from 0 to 65535."),
    ("port", "-1", "-1 is out of range; give a whole number from 0 to 65535."),
    ("port", "70000", "70000 is out of range; give a whole number from 0 to 65535."),
    ("port", "80.5", "Not a valid integer; give a whole number from 0 to 65535."),
    ("workers", "0", "0 is out of range; give a whole number from 1 to 64."),
    ("workers", "many", "Not a valid integer; give a whole number from 1 to 64."),
    ("seed", "x", f"Not a valid integer; give a whole number from 0 to {MAX_SEED}."),
    ("seed", "-1", f"-1 is out of range; give a whole number from 0 to {MAX_SEED}."),
    ("seed", str(2**64), f"is out of range; give a whole number from 0 to {MAX_SEED}."),
    ("fixtures_dir", "/no/such/directory", "No directory at '/no/such/directory'"),
    ("fixtures_dir", __file__, "No directory at"),
    ("base_path", "v1", "like '/v1'"),
    ("base_path", "/v1/", "no trailing slash"),
    ("base_path", "/", "no trailing slash"),
    ("base_path", "/v 1", "like '/v1'"),
    ("base_path", "/v1?x=1", "like '/v1'"),
    ("conversations", "abc", "N or a range MIN-MAX"),
    ("conversations", "-5", "N or a range MIN-MAX"),
    ("conversations", "1-2-3", "N or a range MIN-MAX"),
    ("conversations", "300-30", "runs backwards"),
    ("conversations", "2000000000", "At most 1000000000"),
    ("reload", "maybe", "boolean"),
    ("latency", "slow", "N or a range MIN-MAX"),
    ("latency", "70000", "At most 60000"),
    ("error_rate", "2", "is out of range; give a share from 0 to 1"),
    ("error_rate", "nan", "not permitted"),
    ("error_rate", "often", "Not a valid number; give a share from 0 to 1"),
    ("rate_limit", "100", "Must be N/s, N/min or N/h"),
    ("rate_limit", "100/day", "Must be N/s, N/min or N/h with N a whole number from 1 to 1000000000"),
    ("rate_limit", "0/s", "from 1 to 1000000000, e.g. '100/min'"),
    ("rate_limit", "-3/s", "Must be N/s, N/min or N/h"),
    ("rate_limit", "1.5/s", "Must be N/s, N/min or N/h"),
    ("journal_namespaces", "0", "0 is out of range; give a whole number from 1 to 100000."),
    ("journal_namespaces", "100001", "100001 is out of range; give a whole number from 1 to 100000."),
    ("journal_namespaces", "many", "Not a valid integer; give a whole number from 1 to 100000."),
    ("journal_namespaces", "1.5", "Not a valid integer; give a whole number from 1 to 100000."),
    ("max_body", "-1", "-1 is out of range; give a whole number from 0 up."),
    ("max_body", "1MB", "Not a valid integer; give a whole number from 0 up."),
    ("host", "", "Not an address or host name; give one, e.g. 127.0.0.1"),
    ("host", "localhost:80", "Give an address or name without a port; the port is --port / PORT."),
    ("host", "127.0.0.1:8000", "without a port; the port is --port"),
    ("host", "[::1]:8000", "without a port; the port is --port"),
    ("host", "[::1]", "Write an IPv6 address without brackets, e.g. ::1."),
    ("host", "http://localhost", "without a scheme or path"),
    ("host", "localhost/v1", "without a scheme or path"),
    ("host", "my host", "Not an address or host name"),
    ("host", "-bad.example", "Not an address or host name"),
]


@pytest.mark.parametrize("setting, value, words", BAD_VALUES, ids=[f"{s}={v}" for s, v, _ in BAD_VALUES])
def test_bad_setting_in_config(setting, value, words):
    flag, variable = SETTINGS[setting].flag, SETTINGS[setting].variable
    with pytest.raises(ConfigError) as caught:
        create_app({setting: value})
    message = str(caught.value)
    assert message.startswith(f"Setting {setting} ({flag} / {variable})")
    assert repr(value) in message and words in message
    assert "\n" not in message


# A third of the cases again, through the environment; an empty variable means 'not set', so none of those.
BAD_IN_ENVIRONMENT = [case for case in BAD_VALUES[::3] if case[1] != ""]


@pytest.mark.parametrize("setting, value, words", BAD_IN_ENVIRONMENT, ids=[f"{s}={v}" for s, v, _ in BAD_IN_ENVIRONMENT])
def test_bad_setting_in_environment(monkeypatch, setting, value, words):
    flag, variable = SETTINGS[setting].flag, SETTINGS[setting].variable
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        create_app()
    assert str(caught.value).startswith(f"Setting {setting} ({flag} / {variable})")
    assert words in str(caught.value)


@pytest.mark.parametrize("keys", ["abc", f"{API_KEY},{API_KEY.upper()}", [API_KEY, 5]])
def test_bad_api_keys_are_refused_without_echoing_them(keys):
    with pytest.raises(ConfigError) as caught:
        create_app({"api_keys": keys})
    message = str(caught.value)
    assert message.startswith("Setting api_keys (--api-keys / MOCK_API_KEYS)")
    assert "48 lowercase hexadecimal" in message or "comma-separated" in message
    assert API_KEY.upper() not in message and "abc" not in message


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "::1", "::", "fe80::1%lo", "localhost", "api.example.test.",
                                  "my_box-2.local"])
def test_addresses_and_names_are_hosts(host):
    assert load_settings({"host": host}, environ={})["host"] == host


@pytest.mark.parametrize("environ, host", [
    ({"HOST": "somehost"}, "127.0.0.1"),  # tcsh sets HOST to the machine's name: not the address to bind
    ({"HOST": "somehost", "MOCK_HOST": "::1"}, "::1"),
])
def test_the_host_comes_from_mock_host_never_from_host(environ, host):
    assert load_settings(environ=environ)["host"] == host


def test_unknown_setting_names_every_setting():
    with pytest.raises(ConfigError) as caught:
        create_app({"page_size": 5})
    message = str(caught.value)
    assert "'page_size'" in message
    assert all(name in message for name in SETTINGS)


@pytest.mark.parametrize("text, requests, seconds", [
    ("3/s", 3, 1), ("100/min", 100, 60), (" 5000 / h ", 5000, 3600), ("1000000000/s", 1_000_000_000, 1),
])
def test_rate_limits_are_read_as_requests_per_window(text, requests, seconds):
    rate = load_settings({"rate_limit": text}, environ={})["rate_limit"]
    assert (rate.requests, rate.seconds, str(rate)) == (requests, seconds, text.replace(" ", ""))


def test_empty_variable_means_not_set(monkeypatch):
    monkeypatch.setenv("MOCK_SEED", "")
    monkeypatch.setenv("MOCK_CONVERSATIONS", "")
    assert load_settings()["seed"] == 20250307
    assert load_settings()["conversations"] == (30, 300)


def test_defaults():
    settings = load_settings()
    assert settings["host"] == "127.0.0.1" and settings["port"] == 8000
    assert settings["seed"] == 20250307 and settings["base_path"] == ""
    assert settings["api_keys"] == () and settings["fixtures_dir"] is None
    assert settings["journal_size"] == 1000 and settings["journal_namespaces"] == 100
    assert settings["rate_limit"] is None and SETTINGS["rate_limit"].default == "off"


def _total(app, chatbot=GENERATED_CHATBOT):
    response = app.test_client().get(f"/chatbots/{chatbot}/conversations", headers={"X-API-Key": API_KEY})
    assert response.status_code == 200
    return int(response.headers["X-Total-Count"])


def test_environment_variables_configure_the_app(monkeypatch):
    monkeypatch.setenv("MOCK_CONVERSATIONS", "17")
    monkeypatch.setenv("MOCK_BASE_PATH", "/v1")
    app = create_app()
    response = app.test_client().get(f"/v1/chatbots/{GENERATED_CHATBOT}/conversations",
                                     headers={"X-API-Key": API_KEY})
    assert response.headers["X-Total-Count"] == "17"


def test_config_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("MOCK_CONVERSATIONS", "17")
    monkeypatch.setenv("MOCK_SEED", "not a number")
    assert _total(create_app({"conversations": "23", "seed": 1})) == 23


def test_seed_from_environment_equals_seed_from_config(monkeypatch):
    client = create_app({"seed": 99}).test_client()
    expected = client.get(f"/chatbots/{GENERATED_CHATBOT}/conversations", headers={"X-API-Key": API_KEY}).data
    monkeypatch.setenv("MOCK_SEED", "99")
    client = create_app().test_client()
    assert client.get(f"/chatbots/{GENERATED_CHATBOT}/conversations", headers={"X-API-Key": API_KEY}).data == expected


def test_api_keys_from_environment(monkeypatch):
    other = "f" * 48
    monkeypatch.setenv("MOCK_API_KEYS", f" {other} , ")
    client = create_app().test_client()
    path = f"/chatbots/{GENERATED_CHATBOT}/conversations"
    assert client.get(path, headers={"X-API-Key": other}).status_code == 200
    assert client.get(path, headers={"X-API-Key": API_KEY}).status_code == 401


@pytest.mark.parametrize("given, workers", [({}, 1), ({"workers": "3"}, 3)])
def test_serve_runs_one_worker_per_cpu_it_may_use_unless_told(monkeypatch, tmp_path, given, workers):
    from conversations_mock.commands import cpus
    from conversations_mock.commands import serve as server

    (tmp_path / "cpu.max").write_text("100000 100000\n")  # a container limited to one CPU, whatever the host has
    monkeypatch.setattr(cpus, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    started = {}
    monkeypatch.setattr(server.MockServer, "run", lambda self: started.update(self.options))
    assert server.serve({"port": "0", **given}) == 0
    assert started["workers"] == workers
    assert started["worker_class"] == "conversations_mock.web.worker.MockWorker" and started["preload_app"] is True


def _documented_settings_rows():
    """{flag: (variable, default)} of the settings table in docs/settings.md."""
    section = (REPO / "docs" / "settings.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()
             if line.startswith("| `--") or (line.startswith("| ") and line.count("|") == 5 and "`--" in line)]
    return {flag.strip("`"): (variable.strip("`"), default) for _, flag, variable, default in cells}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_the_docs_row_of_each_setting_says_what_its_description_says(name):
    setting = SETTINGS[name]
    variable, default = _documented_settings_rows()[setting.flag]
    assert variable == setting.variable
    assert setting.default.split(":")[0] in default


def test_the_docs_list_every_setting_and_no_other():
    assert set(_documented_settings_rows()) == {setting.flag for setting in SETTINGS.values()}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_serve_help_gives_each_settings_flag_variable_and_default(name):
    from conversations_mock.commands.cli import build_parser

    setting = SETTINGS[name]
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    [action] = [action for action in serve._actions if setting.flag in action.option_strings]
    assert action.help == f"{setting.help} (default {setting.default}); env {setting.variable}"


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("::", False),
                                            ("api.example.test", False)])
def test_only_a_loopback_host_serves_the_control_api_without_a_token(host, loopback):
    from conversations_mock.settings import control_token, is_loopback

    assert is_loopback(host) is loopback
    made = control_token(load_settings({"host": host}, environ={}))
    if loopback:
        assert made is None
    else:  # a fresh token each start, which admin_token's own rule accepts
        assert made != control_token(load_settings({"host": host}, environ={}))
        assert load_settings({"host": host, "admin_token": made}, environ={})["admin_token"] == made
    assert control_token(load_settings({"host": host, "admin_token": "t" * 16}, environ={})) is None


@pytest.mark.parametrize("token", ["short", "has a space in it, so no", "x" * 257])
def test_a_bad_admin_token_is_refused_without_echoing_it(token):
    with pytest.raises(ConfigError) as caught:
        load_settings({"admin_token": token}, environ={})
    message = str(caught.value)
    assert message.startswith("Setting admin_token (--admin-token / MOCK_ADMIN_TOKEN)")
    assert token not in message and "16 to 256" in message
