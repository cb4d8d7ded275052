"""Rate limits: a budget of requests per window ('100/min'), for the setting and the control API alike."""

import re
from dataclasses import dataclass

from marshmallow import RAISE, Schema, ValidationError, fields

# Seconds of each window a rate may name, by the unit written after the slash.
WINDOWS = {"s": 1, "min": 60, "h": 3600}
MAX_REQUESTS = 1_000_000_000
RATE_RULE = (
    f"Must be N/s, N/min or N/h with N a whole number from 1 to {MAX_REQUESTS}, e.g. '100/min'."
)
_RATE = re.compile(r"\s*([0-9]{1,10})\s*/\s*(s|min|h)\s*")


@dataclass(frozen=True)
class Rate:
    """A budget: `requests` per window of `seconds` (1, 60 or 3600), written as '100/min'."""

    requests: int
    seconds: int

    def __str__(self):
        unit = next(unit for unit, seconds in WINDOWS.items() if seconds == self.seconds)
        return f"{self.requests}/{unit}"

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """The Rate `text` writes ('3/s', '100/min', '5000/h'); raises ValueError with RATE_RULE."""
        match = _RATE.fullmatch(text) if isinstance(text, str) else None
        if not match or not 1 <= int(match.group(1)) <= MAX_REQUESTS:
            raise ValueError(RATE_RULE)
        return cls(int(match.group(1)), WINDOWS[match.group(2)])


class RateField(fields.Field):
    """A rate limit, 'N/s', 'N/min' or 'N/h', loaded as a Rate."""

    default_error_messages = {"invalid": RATE_RULE}

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, Rate):
            return value
        try:
            return Rate.parse(value)
        except ValueError:
            raise self.make_error("invalid") from None


class RateLimitSchema(Schema):
    """PUT /__mock/rate-limit: the namespace's own rate limit, or null for none (whatever the server's)."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": 'Unknown field; the body is {"rate_limit": "N/s", "N/min", "N/h" or null}.'
    }

    rate_limit = RateField(
        required=True,
        allow_none=True,
        metadata={
            "type": "string",
            "nullable": True,
            "pattern": r"^[0-9]{1,10}/(s|min|h)$",
            "example": "3/s",
            "description": "Requests each API key may send per second (N/s), minute (N/min) or hour (N/h) "
            "in this namespace; null: none, whatever the server's --rate-limit.",
        },
    )


class RateLimitStateSchema(RateLimitSchema):
    """GET /__mock/rate-limit: the rate limit in force in the namespace, and where it comes from."""

    source = fields.String(
        required=True,
        metadata={
            "enum": ["namespace", "server"],
            "description": "namespace: set by PUT /__mock/rate-limit; server: the --rate-limit setting "
            "(null when it is off).",
        },
    )


def load_rate(text: str | None) -> Rate | None:
    """A stored rate limit's text as a Rate, or None for 'off' (the text RateLimitSchema stores for null)."""
    return None if text in (None, OFF) else Rate.parse(text)


# What the store keeps for a namespace whose rate limit is set to null: no limit, whatever the server's.
OFF = "off"
