"""The scenarios a client may ask for in the RFC 7240 `Prefer` header, as Prism spells them."""

from marshmallow import Schema, fields, validate

from conversations_mock.schemas.clock import INSTANT_EXAMPLE, Instant
from conversations_mock.schemas.request import MAX_SEED, WholeNumber

PREFER_HEADER = "Prefer"
PREFERENCE_APPLIED_HEADER = "Preference-Applied"
# 200 asks for the ordinary answer (and opts the request out of the server's error rate).
SCENARIO_CODES = (200, 400, 401, 403, 404, 422, 429, 500, 502, 503, 504)
MAX_DELAY_MS = 60_000
# empty: a page with no conversations; documented: the API document's ten, for any chatbot.
EXAMPLES = ("empty", "documented")
# RFC 7240's own preferences: HTTP libraries may send them, so they are ignored rather than refused.
RFC_7240_PREFERENCES = ("respond-async", "return", "wait", "handling")


class PreferencesSchema(Schema):
    """The preferences of one request, each given at most once."""

    error_messages = {
        "unknown": "Unknown preference; this server honours code, delay, example, seed and clock."
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
