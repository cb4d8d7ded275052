"""Settings through create_app: a wrong value names the setting, its flag and its variable."""

import os

import pytest

from conversations_mock import ConfigError, create_app
from conversations_mock.settings import OPTIONS, load_settings
from tests.helpers import API_KEY, GENERATED_CHATBOT

BAD_VALUES = [
    ("port", "x", "Not a valid integer"),
    ("port", "-1", "less than or equal to 65535"),
    ("port", "70000", "less than or equal to 65535"),
    ("port", "80.5", "Not a valid integer"),
    ("workers", "0", "greater than or equal to 1"),
    ("workers", "many", "Not a valid integer"),
    ("seed", "x", "Not a valid integer"),
    ("seed", "-1", "greater than or equal to 0"),
    ("seed", str(2**64), "less than or equal to"),
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
    ("error_rate", "2", "less than or equal to 1.0"),
    ("error_rate", "nan", "not permitted"),
    ("error_rate", "often", "Not a valid number"),
    ("max_body", "-1", "greater than or equal to 0"),
    ("host", "", "minimum length 1"),
]


@pytest.mark.parametrize("setting, value, words", BAD_VALUES, ids=[f"{s}={v}" for s, v, _ in BAD_VALUES])
def test_bad_setting_in_config(setting, value, words):
    flag, variable, _ = OPTIONS[setting]
    with pytest.raises(ConfigError) as caught:
        create_app({setting: value})
    message = str(caught.value)
    assert message.startswith(f"Setting {setting} ({flag} / {variable})")
    assert repr(value) in message and words in message
    assert "\n" not in message


@pytest.mark.parametrize("setting, value, words", BAD_VALUES[::3], ids=[f"{s}={v}" for s, v, _ in BAD_VALUES[::3]])
def test_bad_setting_in_environment(monkeypatch, setting, value, words):
    flag, variable, _ = OPTIONS[setting]
    if value == "":
        pytest.skip("an empty variable means 'not set'")
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


def test_unknown_setting_names_every_setting():
    with pytest.raises(ConfigError) as caught:
        create_app({"page_size": 5})
    message = str(caught.value)
    assert "'page_size'" in message
    assert all(name in message for name in OPTIONS)


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


@pytest.mark.parametrize("given, workers", [({}, os.cpu_count()), ({"workers": "3"}, 3)])
def test_serve_runs_one_worker_per_cpu_unless_told(monkeypatch, given, workers):
    from conversations_mock.commands import serve as server

    started = {}
    monkeypatch.setattr(server.MockServer, "run", lambda self: started.update(self.options))
    assert server.serve({"port": "0", **given}) == 0
    assert started["workers"] == workers
    assert started["worker_class"] == "conversations_mock.web.worker.MockWorker" and started["preload_app"] is True
