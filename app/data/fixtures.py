"""Fixture files: read, checked against the schemas, and turned into chatbots' histories."""

import json
from pathlib import Path

from marshmallow import ValidationError

import conversations_mock.fixtures
from conversations_mock.data.generator import ANCHOR_US, timestamp_text
from conversations_mock.schemas import ConversationSchema, FixtureFileSchema
from conversations_mock.schemas.clock import instant_us

# The fixture files shipped inside the package (the repository's fixtures/ folder).
BUILTIN_FIXTURES = Path(conversations_mock.fixtures.__file__).resolve().parent
# The chatbot and the key the API document's example uses (fixtures/documented-example.json).
DOCUMENTED_CHATBOT = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
DOCUMENTED_KEY = "15a23c21867f4f38b0b46f5e4adb1caf87a040b34eb58f68"
# A file with many mistakes (a field misspelt in every conversation) lists this many, then counts the rest.
SHOWN_PROBLEMS = 10
_conversation_schema = ConversationSchema()
# How long before the clock a shifted fixture's latest moment falls.
SHIFT_MARGIN_US = 10**6


class FixtureError(Exception):
    """A fixture file that cannot be used; each line of the message names the file, the item and the field."""


class ListedHistory:
    """A chatbot whose conversations a fixture file (or a control request) lists, served newest first.

    As written under every clock; with `shift`, every moment moves by the same amount so the
    file's latest one (a created_at or updated_at) falls just before the clock's instant.
    """

    def __init__(self, chatbot_id: str, conversations: list, shift: bool = False):
        self._index(chatbot_id, ordered_dump(conversations), shift)

    @classmethod
    def of_dumped(cls, chatbot_id: str, dumped: list) -> "ListedHistory":
        """A history of conversations already dumped by the schema and ordered newest first (stored ones)."""
        history = cls.__new__(cls)
        history._index(chatbot_id, dumped, shift=False)
        return history

    def _index(self, chatbot_id, dumped, shift):
        self.chatbot_id = chatbot_id
        self.follows_clock = shift
        self._all = dumped
        self._by_state = {}
        for conversation in self._all:
            self._by_state.setdefault(conversation["state"], []).append(conversation)
        moments = [instant_us(c[field]) for c in self._all for field in ("created_at", "updated_at")] if shift else []
        self._latest_us = max(moments, default=ANCHOR_US)

    def total(self, state: str | None = None, at: int | None = None) -> int:
        """How many conversations match the state filter (None: all); the same at any instant."""
        return len(self._matching(state))

    def page(self, state: str | None, offset: int, limit: int, at: int | None = None) -> list:
        """Conversations offset..offset+limit-1 among those matching the state filter, shifted to `at` if asked."""
        items = self._matching(state)[offset : offset + limit]
        if not self.follows_clock:
            return items
        by = (ANCHOR_US if at is None else at) - SHIFT_MARGIN_US - self._latest_us
        return [_shifted(item, by) for item in items]

    def _matching(self, state):
        return self._all if state is None else self._by_state.get(state, [])


def ordered_dump(conversations: list) -> list:
    """Conversations loaded by the schema, dumped as the API shows them, newest created_at first."""
    # Stable sort: conversations created at the same moment keep the given order.
    ordered = sorted(conversations, key=lambda c: c["created_at"], reverse=True)
    return [_conversation_schema.dump(c) for c in ordered]


def _shifted(conversation: dict, by: int) -> dict:
    """The conversation with created_at and updated_at moved by `by` microseconds."""
    return {
        **conversation,
        "created_at": timestamp_text(instant_us(conversation["created_at"]) + by),
        "updated_at": timestamp_text(instant_us(conversation["updated_at"]) + by),
    }


def error_lines(messages, path=""):
    """Flatten marshmallow's nested messages into 'chatbots[0].conversations[3].platform: ...'."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                step = path
            elif isinstance(key, int):
                step = f"{path}[{key}]"
            else:
                step = f"{path}.{key}" if path else str(key)
            yield from error_lines(value, step)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield f"{path or 'file'}: {message}"
    else:
        yield f"{path or 'file'}: {messages}"


def read_fixture_file(path: Path) -> list:
    """Read and check one file; return its chatbots as loaded by the schema."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise FixtureError(f"{path}: cannot be read: {error.strerror or error}") from error
    try:
        # utf-8-sig: some editors start UTF-8 files with a byte order mark; it is still UTF-8.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise FixtureError(
            f"{path}: not UTF-8 text: byte 0x{raw[error.start]:02x} at line {line} column {column}"
            f" ({error.reason}); save the file as UTF-8"
        ) from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise FixtureError(
            f"{path}: not valid JSON: line {error.lineno} column {error.colno}: {error.msg}"
        ) from error
    try:
        return FixtureFileSchema().load(document)["chatbots"]
    except ValidationError as error:
        # marshmallow reports items in the file's order: the first line is the first mistake.
        lines = [f"{path}: {line}" for line in error_lines(error.messages)]
        if len(lines) > SHOWN_PROBLEMS:
            more = len(lines) - SHOWN_PROBLEMS
            plural = "s" if more > 1 else ""
            lines[SHOWN_PROBLEMS:] = [f"{path}: and {more} more problem{plural} in this file"]
        raise FixtureError("\n".join(lines)) from error


def fixture_files(directories) -> list:
    """The *.json files of each directory, in a stable order."""
    return [path for directory in directories for path in sorted(Path(directory).glob("*.json"))]


def load_fixtures(directories) -> dict:
    """Map chatbot id to its fixture entry, across directories; a later directory overrides."""
    entries = {}
    origin = {}
    for path in fixture_files(directories):
        for index, chatbot in enumerate(read_fixture_file(path)):
            chatbot_id = str(chatbot["id"])
            earlier = origin.get(chatbot_id)
            if earlier is not None and earlier.parent == path.parent:
                raise FixtureError(
                    f"{path}: chatbots[{index}].id: chatbot {chatbot_id} is already defined in {earlier}"
                )
            origin[chatbot_id] = path
            entries[chatbot_id] = chatbot
    return entries
