"""Instants of the clock: the clock setting and the `Prefer: clock=` preference, as microseconds since the epoch."""

import re
from datetime import datetime, timezone

from marshmallow import fields

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CLOCK_MODES = ("fixed", "now")
INSTANT_EXAMPLE = "2026-06-01T12:00:00Z"
# Python also reads week dates, ordinal dates and a space for the T: the API prints none of them.
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|z|[+-]\d\d:?\d\d)")


def instant_us(text: str) -> int | None:
    """Microseconds since the epoch of an ISO 8601 instant with a UTC offset, or None if it is not one."""
    if not isinstance(text, str) or not _INSTANT.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:  # a day or hour out of range, e.g. 2026-02-30
        return None
    delta = moment - EPOCH  # exact: a float of seconds would lose microseconds
    return (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds


class Instant(fields.Field):
    """An ISO 8601 instant with a UTC offset, e.g. 2026-06-01T12:00:00Z, loaded as microseconds since the epoch."""

    default_error_messages = {
        "invalid": f"Must be an ISO 8601 instant with a UTC offset, e.g. {INSTANT_EXAMPLE} or "
        "2026-06-01T14:00:00+02:00."
    }

    def _deserialize(self, value, attr, data, **kwargs):
        microseconds = instant_us(value)
        if microseconds is None:
            raise self.make_error("invalid")
        return microseconds


class ClockChoice(Instant):
    """'fixed', 'now' or an ISO 8601 instant (loaded as microseconds since the epoch)."""

    default_error_messages = {
        "invalid": f"Must be 'fixed' (the frozen instant 2025-03-07T06:00:00Z), 'now' (the server's wall "
        f"clock) or an ISO 8601 instant with a UTC offset, e.g. {INSTANT_EXAMPLE}."
    }

    def _serialize(self, value, attr, obj, **kwargs):
        return value if value in CLOCK_MODES else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip().lower() in CLOCK_MODES:
            return value.strip().lower()
        return super()._deserialize(value.strip() if isinstance(value, str) else value, attr, data, **kwargs)
