"""The server's settings, as typed values with the rules each must follow."""

import os
import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from conversations_mock.schemas.clock import ClockChoice
from conversations_mock.schemas.request import API_KEY_PATTERN, MAX_SEED

# A day of clock time per second of the wall clock's, and more, is past any demo.
MAX_CLOCK_SPEED = 1_000_000


class NumberRange(fields.Field):
    """'N' or 'MIN-MAX' (whole numbers), loaded as a (min, max) pair."""

    default_error_messages = {"invalid": "Must be a whole number N or a range MIN-MAX, e.g. '30-300'."}
    _pattern = re.compile(r"\s*([0-9]{1,10})\s*(?:-\s*([0-9]{1,10})\s*)?")

    def _serialize(self, value, attr, obj, **kwargs):
        low, high = value
        return str(low) if low == high else f"{low}-{high}"

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (tuple, list)) and len(value) == 2:
            value = f"{value[0]}-{value[1]}"
        match = self._pattern.fullmatch(str(value))
        if not match:
            raise self.make_error("invalid")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high < low:
            raise ValidationError(f"The range {low}-{high} runs backwards; write MIN-MAX.")
        return (low, high)


class Words(fields.Field):
    """A list of words, given as a list or as one comma-separated string."""

    def _serialize(self, value, attr, obj, **kwargs):
        return ",".join(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, (list, tuple)) or not all(isinstance(w, str) for w in value):
            raise ValidationError("Must be a comma-separated list.")
        return tuple(word.strip() for word in value if word.strip())


def _existing_directory(path):
    if not os.path.isdir(path):
        raise ValidationError(f"No directory at {path!r}.")


# A browser's Origin header: scheme, host and an optional port, nothing after.
_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[^/\s:\[\]]+)(:[0-9]{1,5})?")


def _origins(origins):
    if not origins:
        raise ValidationError("Give '*' or at least one origin.")
    wrong = [origin for origin in origins if origin != "*" and not _ORIGIN.fullmatch(origin)]
    if wrong:
        raise ValidationError(
            f"{wrong[0]!r} is not an origin: write '*' or origins like 'http://localhost:5173' "
            "(scheme, host, optional port, no path or trailing slash)."
        )


def _api_keys(keys):
    wrong = [key for key in keys if not API_KEY_PATTERN.fullmatch(key)]
    if wrong:
        raise ValidationError(
            f"{len(wrong)} of the keys is not 48 lowercase hexadecimal characters (the documented shape)."
        )


class SettingsSchema(Schema):
    """Every setting of the mock, with its default; conversations_mock.settings maps flags and variables onto it."""

    host = fields.String(load_default="127.0.0.1", validate=validate.Length(min=1))
    port = fields.Integer(load_default=8000, validate=validate.Range(0, 65535))
    workers = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 64))
    seed = fields.Integer(load_default=20250307, validate=validate.Range(0, MAX_SEED))
    fixtures_dir = fields.String(load_default=None, allow_none=True, validate=_existing_directory)
    api_keys = Words(load_default=(), validate=_api_keys)
    base_path = fields.String(
        load_default="",
        validate=validate.Regexp(
            r"(/[A-Za-z0-9._~-]+)*\Z", error="Must be empty or like '/v1' (no trailing slash)."
        ),
    )
    conversations = NumberRange(load_default=(30, 300))
    cors_origins = Words(load_default=("*",), validate=_origins)
    reload = fields.Boolean(load_default=False)
    latency = NumberRange(load_default=(0, 0))
    error_rate = fields.Float(load_default=0.0, validate=validate.Range(0.0, 1.0))
    max_body = fields.Integer(load_default=1024 * 1024, validate=validate.Range(min=0))
    clock = ClockChoice(load_default="fixed")
    clock_speed = fields.Float(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(0, MAX_CLOCK_SPEED, error="Must be a number from {min} to {max}."),
        error_messages={key: f"Must be a number from 0 to {MAX_CLOCK_SPEED}, e.g. 60." for key in ("invalid", "special")},
    )

    @validates_schema(skip_on_field_errors=True)
    def check_bounds(self, data, **kwargs):
        """Keep generated histories and injected latency within what the server can honour."""
        if data["conversations"][1] > 1_000_000_000:
            raise ValidationError("At most 1000000000 conversations per chatbot.", "conversations")
        if data["latency"][1] > 60_000:
            raise ValidationError("At most 60000 milliseconds.", "latency")
