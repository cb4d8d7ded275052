"""Settings: defaults, then environment variables, then explicit values, checked at startup.

Each setting is described once, in schemas/settings.py (SettingsSchema): its type, default and
rules, its flag, its environment variable and its help. SETTINGS reads that description for the
command line, the gunicorn settings file, the error messages and the tests.
"""

import ipaddress
import os
import secrets
from dataclasses import dataclass

from marshmallow import ValidationError, fields

from conversations_mock.schemas import SettingsSchema


@dataclass(frozen=True)
class Setting:
    """One setting as a person meets it: name, flag, environment variable, help and default."""

    name: str
    flag: str
    variable: str
    help: str
    default: str
    switch: bool  # a flag without a value (--reload) rather than one with (--port 8000)

    def label(self) -> str:
        """How messages name the setting: 'port (--port / PORT)'."""
        return f"{self.name} ({self.flag} / {self.variable})"


def _default_text(field) -> str:
    if field.metadata.get("default") is not None:
        return field.metadata["default"]
    return str(field._serialize(field.load_default, None, None))


def _describe(schema: SettingsSchema) -> dict:
    return {
        name: Setting(name, field.metadata["flag"], field.metadata["variable"], field.metadata["help"],
                      _default_text(field), isinstance(field, fields.Boolean))
        for name, field in schema.fields.items()
    }


# Every setting, by name, in the schema's order.
SETTINGS = _describe(SettingsSchema())


class ConfigError(Exception):
    """A setting that cannot be used; the message names it and says what is allowed."""


def load_settings(overrides=None, environ=None) -> dict:
    """Validate the settings from the environment and `overrides` (which win)."""
    environ = os.environ if environ is None else environ
    raw = {name: environ[setting.variable] for name, setting in SETTINGS.items()
           if environ.get(setting.variable, "") != ""}
    unknown = sorted(set(overrides or {}) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"Unknown setting {unknown[0]!r}; the settings are: {', '.join(SETTINGS)}.")
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return SettingsSchema().load(raw)
    except ValidationError as error:
        name, messages = sorted(error.messages.items())[0]
        message = messages[0] if isinstance(messages, list) else messages
        given = raw.get(name)
        shown = "" if name in ("api_keys", "admin_token") or given is None else f" (got {given!r})"
        raise ConfigError(f"Setting {SETTINGS[name].label()}{shown}: {message}") from error


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`: 127.0.0.0/8, ::1 or localhost."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower().rstrip(".") == "localhost"


def control_token(settings: dict) -> str | None:
    """A token made now for the control API when `settings` bind past loopback and give none, else None.

    The control API (/__mock) lets whoever connects replace chatbots' data and read the journal, so it is
    never open past loopback: `docker run -p 8000:8000 IMAGE` serves the API at once, and its log prints
    the token the control API takes (a fixed one is given with --admin-token / MOCK_ADMIN_TOKEN).
    """
    if settings["admin_token"] is None and not is_loopback(settings["host"]):
        return secrets.token_urlsafe(32)  # 43 characters, within admin_token's rule
    return None
