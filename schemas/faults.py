"""A namespace's fault rules (PUT /__mock/faults): which API requests fail, how often, and how.

A rule is `{"match": {...}, "times": N, "rate": R, "answer": {...}}`; the body is a JSON array of
them, the first that applies to a request answers it. Only `answer` is required. Numbers must be
JSON numbers (a string "2" is refused: a client sending it has a bug worth knowing of).
"""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from conversations_mock.schemas.conversation import STATES
# The answers a rule may give are the ones Prefer may ask for, within the same bounds.
from conversations_mock.schemas.preferences import (
    FAULTS,
    MAX_DELAY_MS,
    MAX_DRIBBLE_MS,
    MAX_RETRY_AFTER_S,
    RETRY_AFTER_CODES,
    SCENARIO_CODES,
)
from conversations_mock.schemas.request import MAX_PAGE, UUIDText

# Rules one namespace holds: every request of the namespace may read them all.
MAX_RULES = 100
MAX_TIMES = 1_000_000_000
# What answers a rule may give: one of these, or a code with a delay.
ANSWER_KINDS = ("code", "fault", "delay", "dribble")


class JsonInteger(fields.Integer):
    """A whole JSON number: no string, no boolean, no fraction."""

    default_error_messages = {"invalid": "Not a whole number (a JSON number without a fraction)."}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class JsonFraction(fields.Float):
    """A JSON number from 0 to 1: no string, no boolean."""

    default_error_messages = {"invalid": "Not a number from 0 to 1."}

    def _validated(self, value):
        if isinstance(value, (str, bool)):
            raise self.make_error("invalid")
        return super()._validated(value)


class RuleMatchSchema(Schema):
    """Which API requests a rule applies to: each field given must equal the request's; none given, every one."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "Unknown field; a match takes chatbot_id, state and page.",
        "type": "Must be a JSON object, e.g. {\"chatbot_id\": \"...\", \"page\": 2}.",
    }

    chatbot_id = UUIDText(metadata={"description": "The chatbot of the request's path (its UUID, any spelling)."})
    state = fields.String(
        validate=validate.OneOf(STATES, error="Must be one of: {choices}."),
        metadata={"description": "The request's state filter (a request without one does not match)."},
    )
    page = JsonInteger(
        validate=validate.Range(1, MAX_PAGE, error="Must be from {min} to {max}."),
        metadata={"description": "The page asked for (a request without page= asks for page 1)."},
    )


class RuleAnswerSchema(Schema):
    """What answers a request the rule applies to: a status, a transport fault, a delay or a dribbled body."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "Unknown field; an answer takes code, retry_after, delay, dribble or fault.",
        "type": "Must be a JSON object, e.g. {\"code\": 503, \"retry_after\": 2}.",
    }

    code = JsonInteger(
        validate=validate.OneOf(SCENARIO_CODES, error="Must be one of: {choices}."),
        metadata={"description": "Answer with this status (a problem+json body unless 200)."},
    )
    retry_after = JsonInteger(
        validate=validate.Range(0, MAX_RETRY_AFTER_S, error="Must be from {min} to {max} seconds."),
        metadata={"description": "The Retry-After seconds of a 429 or 503 (default 1)."},
    )
    delay = JsonInteger(
        validate=validate.Range(0, MAX_DELAY_MS, error="Must be from {min} to {max} milliseconds."),
        metadata={"description": "Milliseconds to wait before answering (alone, or with a code)."},
    )
    dribble = JsonInteger(
        validate=validate.Range(0, MAX_DRIBBLE_MS, error="Must be from {min} to {max} milliseconds."),
        metadata={"description": "Send the ordinary answer's body in pieces spread over this many milliseconds."},
    )
    fault = fields.String(
        validate=validate.OneOf(FAULTS, error="Must be one of: {choices}."),
        metadata={"description": "A transport fault instead of any answer."},
    )

    @validates_schema(skip_on_field_errors=True)
    def _one_answer(self, data, **kwargs):
        """One kind of answer; a delay may join a code, Retry-After only a 429 or 503."""
        given = [kind for kind in ANSWER_KINDS if kind in data]
        if not given:
            raise ValidationError("Give one of code, fault, delay or dribble.")
        for kind in ("fault", "dribble"):
            if kind in data and len(given) > 1:
                others = " and ".join(other for other in given if other != kind)
                message = f"Comes alone: a rule answers with {kind} or with {others}, not both."
                raise ValidationError(message, kind)
        if "retry_after" in data and data.get("code") not in RETRY_AFTER_CODES:
            raise ValidationError("Only with code 429 or 503.", "retry_after")


class FaultRuleSchema(Schema):
    """One rule: which requests (match), how many (times) and what share (rate) of them, answered how (answer)."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "Unknown field; a rule takes match, times, rate and answer.",
        "type": "Must be a JSON object: a rule, e.g. {\"times\": 2, \"answer\": {\"code\": 503}}.",
    }

    match = fields.Nested(
        RuleMatchSchema,
        metadata={"description": "Which API requests of the namespace it applies to; absent: every one."},
    )
    times = JsonInteger(
        validate=validate.Range(1, MAX_TIMES, error="Must be from {min} to {max}."),
        metadata={"description": "Answer the next this many requests it picks, in all servers; then it is spent."},
    )
    rate = JsonFraction(
        validate=validate.Range(0, 1, error="Must be from {min} to {max}."),
        metadata={
            "description": "The share of matching requests it picks, drawn per attempt from the server's seed: "
            "the k-th identical request takes the k-th draw. Absent: every one."
        },
    )
    answer = fields.Nested(RuleAnswerSchema, required=True)


class ShownFaultRuleSchema(FaultRuleSchema):
    """A rule in force, as GET /__mock/faults shows it."""

    times_left = fields.Integer(
        dump_only=True,
        metadata={"description": "How many more requests it will answer (a rule given times only); 0: spent."},
    )


class FaultRulesSchema(Schema):
    """The body of PUT /__mock/faults, wrapped: a JSON array of at most MAX_RULES rules."""

    rules = fields.List(fields.Nested(FaultRuleSchema), required=True)


_rules_schema = FaultRulesSchema()


def load_rules(document) -> list[dict]:
    """The rules of a PUT body (already parsed JSON), loaded in order.

    Raises ValidationError whose messages are keyed by the rule's index, e.g.
    {0: {"answer": {"fault": [...]}}} (a message about the whole array under "_schema").
    """
    if not isinstance(document, list):
        raise ValidationError({"_schema": ["Must be a JSON array of rules."]})
    if len(document) > MAX_RULES:  # before the items: each would be checked for nothing
        raise ValidationError({"_schema": [f"At most {MAX_RULES} rules; {len(document)} were sent."]})
    try:
        return _rules_schema.load({"rules": document})["rules"]
    except ValidationError as error:
        raise ValidationError(error.messages.get("rules", error.messages)) from None
