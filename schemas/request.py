"""What a Get Conversations request carries: the API key header, the path and the query.

The API document prints only example values; the names below are the ones the issues fixed.
A team whose real API spells one differently changes it here, in one place.
"""

import re
from dataclasses import dataclass

from marshmallow import Schema, fields, post_load, validate

from conversations_mock.schemas.conversation import STATES

API_KEY_HEADER = "X-API-Key"
API_KEY_PATTERN = re.compile(r"[0-9a-f]{48}")
CONVERSATIONS_PATH = "/chatbots/<chatbot_id>/conversations"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
# Postgres' int4 ceiling: far past any real history, small enough to stay plain arithmetic.
MAX_PAGE = 2**31 - 1
# The largest seed of generated data (the seed setting, Prefer: seed=, generate --seed).
MAX_SEED = 2**63 - 1


class WholeNumber(fields.Integer):
    """An integer written in plain ASCII digits: no sign, spaces, underscores or decimals."""

    default_error_messages = {"invalid": "Not a whole number written in digits 0-9."}
    _digits = re.compile(r"[0-9]+")

    def _validated(self, value):
        if isinstance(value, str) and not self._digits.fullmatch(value):
            raise self.make_error("invalid")
        return super()._validated(value)


class UUIDText(fields.UUID):
    """A UUID written as 32 hex digits (any case), grouped 8-4-4-4-12 by dashes or not at all.

    Python's UUID also reads braces, a "urn:uuid:" prefix, and (through int()) signs, spaces and
    underscores, so "+9d5b..." would be some other chatbot: a client sending such a path has a bug.
    """

    default_error_messages = {
        "invalid_uuid": "Not a valid UUID: 32 hexadecimal digits, as 8-4-4-4-12 groups joined by dashes or "
        "without dashes."
    }
    _GROUPS = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{32}"
    PATTERN = f"^({_GROUPS})$"  # for the OpenAPI document
    _text = re.compile(f"({_GROUPS})\\Z")  # $ would let a trailing newline through

    def __init__(self, **kwargs):
        # The OpenAPI document (apispec reads metadata) states the same rule.
        super().__init__(**{**kwargs, "metadata": {"pattern": self.PATTERN, **kwargs.get("metadata", {})}})

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        """The id's canonical text (lowercase, dashed): one text for every spelling admitted.

        Made from the text itself, not a uuid.UUID: every new chatbot's first request loads its id,
        and the object and its str() cost as much as the rest of the load.
        """
        if not isinstance(value, str) or not self._text.match(value):
            raise self.make_error("invalid_uuid")
        digits = value.replace("-", "").lower()
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


class ApiKeyHeaderSchema(Schema):
    """The X-API-Key header: the document's example is 48 lowercase hex characters."""

    api_key = fields.String(
        data_key=API_KEY_HEADER,
        required=True,
        # Regexp only anchors at the start: \Z refuses a longer value that begins with a good key.
        validate=validate.Regexp(
            API_KEY_PATTERN.pattern + r"\Z", error="Must be 48 lowercase hexadecimal characters."
        ),
    )


class ChatbotPathSchema(Schema):
    """The chatbot_id path parameter, loaded in its canonical form (lowercase, with dashes)."""

    chatbot_id = UUIDText(required=True)


_chatbot_path = ChatbotPathSchema()


def canonical_chatbot_id(text: str) -> str:
    """`text` as the path takes it, in canonical lowercase form; raises ValidationError if the path refuses it."""
    return _chatbot_path.load({"chatbot_id": text})["chatbot_id"]


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Which page a request asks for: its number (from 1), its size and the state filter (None: all)."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    state: str | None = None

    @property
    def offset(self) -> int:
        """How many matching conversations come before this page."""
        return (self.page - 1) * self.page_size


class ConversationsQuerySchema(Schema):
    """The query parameters: page, page_size and the optional state filter, loaded as a PageQuery."""

    error_messages = {"unknown": "Unknown query parameter; the API takes page, page_size and state."}

    page = WholeNumber(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Page number, from 1."},
    )
    page_size = WholeNumber(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": "Conversations per page."},
    )
    state = fields.String(
        validate=validate.OneOf(STATES, error="Must be one of: {choices}."),
        metadata={"description": "Only conversations in this state."},
    )

    @post_load
    def make_query(self, data, **kwargs):
        """The loaded parameters as one value, passed unchanged from validation to the data."""
        return PageQuery(**data)
