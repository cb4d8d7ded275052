"""The scenarios a client may ask for in the RFC 7240 `Prefer` header, as Prism spells them."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from conversations_mock.schemas.clock import INSTANT_EXAMPLE, Instant
from conversations_mock.schemas.request import MAX_SEED, WholeNumber

PREFER_HEADER = "Prefer"
PREFERENCE_APPLIED_HEADER = "Preference-Applied"
# 200 asks for the ordinary answer (and opts the request out of the server's error rate).
SCENARIO_CODES = (200, 400, 401, 403, 404, 422, 429, 500, 502, 503, 504)
MAX_DELAY_MS = 60_000
# empty: a page with no conversations; documented: the API document's ten, for any chatbot.
EXAMPLES = ("empty", "documented")
MAX_DRIBBLE_MS = 60_000
MAX_RETRY_AFTER_S = 3600
# Statuses whose answer carries Retry-After (the retry-after preference sets it).
RETRY_AFTER_CODES = (429, 503)
# Transport faults: what a flaky network or a failing backend does to a connection (web/faults.py).
FAULTS = ("connection-reset", "empty-response", "malformed-chunk", "random-data-then-close", "truncated-body")
# RFC 7240's own preferences: HTTP libraries may send them, so they are ignored rather than refused.
RFC_7240_PREFERENCES = ("respond-async", "return", "wait", "handling")


class PreferencesSchema(Schema):
    """The preferences of one request, each given at most once."""

    error_messages = {
        "unknown": (
            "Unknown preference; this server honours code, delay, example, seed, clock, fault, dribble "
            "and retry-after."
        )
    }

    code = WholeNumber(
        validate=validate.OneOf(SCENARIO_CODES, error="Must be one of: {choices}."),
        error_messages={"invalid": f"Must be one of: {', '.join(map(str, SCENARIO_CODES))}."},
        metadata={"description": "Answer with this status (a problem+json body unless 200)."},
    )
    delay = WholeNumber(
        validate=validate.Range(0, MAX_DELAY_MS, error="Must be from {min} to {max} milliseconds."),
        error_messages={"invalid": f"Must be a whole number of milliseconds from 0 to {MAX_DELAY_MS}."},
        metadata={"description": "Milliseconds to wait before answering."},
    )
    example = fields.String(
        validate=validate.OneOf(EXAMPLES, error="Must be one of: {choices}."),
        metadata={"description": "A named example instead of the chatbot's conversations."},
    )
    seed = WholeNumber(
        validate=validate.Range(0, MAX_SEED, error="Must be from {min} to {max}."),
        error_messages={"invalid": "Must be a whole number written in digits 0-9."},
        metadata={"description": "Generate this response's conversations with this seed."},
    )
    clock = Instant(
        metadata={
            "description": "Evaluate this response's conversations at this instant instead of the server's clock.",
            "allowed": f"an ISO 8601 instant with a UTC offset, e.g. {INSTANT_EXAMPLE}",
        },
    )
    fault = fields.String(
        validate=validate.OneOf(FAULTS, error="Must be one of: {choices}."),
        metadata={"description": "Break the connection so instead of answering (a transport fault)."},
    )
    dribble = WholeNumber(
        validate=validate.Range(0, MAX_DRIBBLE_MS, error="Must be from {min} to {max} milliseconds."),
        error_messages={"invalid": f"Must be a whole number of milliseconds from 0 to {MAX_DRIBBLE_MS}."},
        metadata={"description": "Send the answer's body in pieces spread over this many milliseconds."},
    )
    retry_after = WholeNumber(
        data_key="retry-after",
        validate=validate.Range(0, MAX_RETRY_AFTER_S, error="Must be from {min} to {max} seconds."),
        error_messages={"invalid": f"Must be a whole number of seconds from 0 to {MAX_RETRY_AFTER_S}."},
        metadata={"description": "The Retry-After, in seconds, of the code=429 or code=503 asked for."},
    )

    @validates_schema
    def _consistent(self, data, **kwargs):
        """Refuse preferences that cannot hold together, naming the one that cannot apply."""
        code = data.get("code")
        if "retry_after" in data and code not in RETRY_AFTER_CODES:
            raise ValidationError(
                f"Sets the Retry-After of code=429 or code=503 only; {_given(code)}.", "retry-after"
            )
        if "fault" in data and code is not None:
            raise ValidationError("A fault answers instead of any status: send fault or code, not both.", "fault")
        if "dribble" in data and ("fault" in data or code not in (None, 200)):
            raise ValidationError("Dribbles the ordinary answer's body: not with a fault or an error code.",
                                  "dribble")


def _given(code) -> str:
    return "this request asks for no code" if code is None else f"this request asks for code={code}"
