"""Settings: defaults, then environment variables, then explicit values, checked at startup."""

import os

from marshmallow import ValidationError

from conversations_mock.schemas import SettingsSchema

# setting -> (command-line flag, environment variable, help). The schema holds types and defaults.
OPTIONS = {
    "host": ("--host", "HOST", "address to bind (default 127.0.0.1: this machine only)"),
    "port": ("--port", "PORT", "port to listen on, 0 for any free one (default 8000)"),
    "workers": ("--workers", "MOCK_WORKERS", "gunicorn worker processes (default: CPU count)"),
    "seed": ("--seed", "MOCK_SEED", "seed of all generated data (default 20250307)"),
    "fixtures_dir": ("--fixtures", "MOCK_FIXTURES_DIR", "extra directory of fixture files"),
    "api_keys": ("--api-keys", "MOCK_API_KEYS", "comma-separated keys to accept (default: any key of the documented shape)"),
    "base_path": ("--base-path", "MOCK_BASE_PATH", "prefix of every API path, e.g. /v1 (default none)"),
    "conversations": ("--conversations", "MOCK_CONVERSATIONS", "conversations per generated chatbot, N or MIN-MAX (default 30-300)"),
    "cors_origins": ("--cors-origins", "MOCK_CORS_ORIGINS", "comma-separated origins browsers may call from (default *)"),
    "reload": ("--reload", "MOCK_RELOAD", "pick up fixture file changes without a restart (default off)"),
    "latency": ("--latency", "MOCK_LATENCY", "added latency in ms, N or MIN-MAX (default 0)"),
    "error_rate": ("--error-rate", "MOCK_ERROR_RATE", "share of requests answered 500, 0 to 1 (default 0)"),
    "max_body": ("--max-body", "MOCK_MAX_BODY", "largest request body accepted, in bytes (default 1048576)"),
    "clock": ("--clock", "MOCK_CLOCK", "the instant pages are evaluated at: fixed (2025-03-07T06:00:00Z), now, or an ISO 8601 instant (default fixed)"),
    "clock_speed": ("--clock-speed", "MOCK_CLOCK_SPEED", "clock seconds per real second from the server's start, 0 to 1000000 (default 0; 1 under now)"),
}


class ConfigError(Exception):
    """A setting that cannot be used; the message names it and says what is allowed."""


def _describe(name: str) -> str:
    flag, variable, _ = OPTIONS[name]
    return f"{name} ({flag} / {variable})"


def load_settings(overrides=None, environ=None) -> dict:
    """Validate the settings from the environment and `overrides` (which win)."""
    environ = os.environ if environ is None else environ
    raw = {}
    for name, (_, variable, _) in OPTIONS.items():
        if environ.get(variable, "") != "":
            raw[name] = environ[variable]
    unknown = sorted(set(overrides or {}) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"Unknown setting {unknown[0]!r}; the settings are: {', '.join(OPTIONS)}.")
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return SettingsSchema().load(raw)
    except ValidationError as error:
        name, messages = sorted(error.messages.items())[0]
        message = messages[0] if isinstance(messages, list) else messages
        given = raw.get(name)
        shown = "" if name == "api_keys" or given is None else f" (got {given!r})"
        raise ConfigError(f"Setting {_describe(name)}{shown}: {message}") from error
