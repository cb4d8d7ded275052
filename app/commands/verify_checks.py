"""The rules `verify` holds a server's answers to, each a named check; pure functions, no HTTP.

Every rule comes from the schemas the mock itself serves and checks fixtures with, so the mock
and the verifier cannot drift apart. A mismatch says where and which rule is broken, and the
shape of the value that breaks it (type, length, kinds of characters), never the value: run
against a real deployment, the report lands in CI logs, and the values are people's data.
`Shown(values=True)` (verify --show-values) shows them.
"""

import json
from dataclasses import dataclass, field

from marshmallow import EXCLUDE, INCLUDE, ValidationError

from conversations_mock.schemas import PROBLEM_CONTENT_TYPE, ConversationSchema, ProblemSchema

_conversation_schema = ConversationSchema()
FIELD_ORDER = [f.data_key or name for name, f in _conversation_schema.fields.items()]
# The fields whose shape depends on the platform (the schema's per-platform rules name them).
PLATFORM_FIELDS = {"sns_user_id", "voice_path", "metadata", "last_message", "user_id"}
# A reply listing one failing item per check is readable; the rest of that page is counted.
SHOWN_ITEMS = 1


@dataclass
class Reply:
    """One HTTP exchange: what was asked and what came back."""

    request: str
    status: int
    headers: dict  # lower-case names
    body: bytes

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case ('' when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def header(self, name: str):
        """A header's value, or None."""
        return self.headers.get(name.lower())


@dataclass
class Mismatch:
    """One way a reply differs from what the API document and the mock say."""

    check: str
    request: str
    expected: str
    got: str


@dataclass
class Page:
    """A list reply that passed far enough to be walked: its items and X-Total-Count."""

    items: list
    total: int | None
    mismatches: list = field(default_factory=list)
    readable: bool = True  # False: not a list at all, so a walk cannot go on from it


def shape(value) -> str:
    """What a JSON value is, without what it says: its type, its length, the kinds of its characters."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return f"{'a negative' if value < 0 else 'an'} integer of {_count(len(str(abs(value))), 'digit')}"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, list):
        return f"an array of {_count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"an object of {_count(len(value), 'key')}"
    text = str(value)
    kinds = _kinds(text)
    return f"a string of {_count(len(text), 'character')}" + (f": {kinds}" if kinds else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


# Classes of characters a shape names; any other printable ASCII character is named itself ('@', '+').
_CLASSES = [("lowercase letters", str.islower), ("uppercase letters", str.isupper), ("digits", str.isdigit),
            ("spaces", lambda c: c == " ")]


def _kinds(text: str) -> str:
    found = []
    for name, test in _CLASSES:
        if any(test(c) and c.isascii() for c in text):
            found.append(name)
    if any(not c.isascii() and c.isprintable() for c in text):
        found.append("non-ASCII characters")
    if any(not c.isprintable() for c in text):
        found.append("control characters")
    symbols = sorted({c for c in text if c.isascii() and c.isprintable() and not c.isalnum() and c != " "})
    found.extend(repr(c) for c in symbols)
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + f" and {found[-1]}" if found else ""


@dataclass(frozen=True)
class Shown:
    """How a report shows a value found: its shape (the default), or the value itself (`values`)."""

    values: bool = False

    def __call__(self, value) -> str:
        """The value as JSON, or its shape."""
        return _json(value) if self.values else shape(value)

    def field(self, name: str, value) -> str:
        """'name = "value"', or 'name (a string of 5 characters: ...)'."""
        return f"{name} = {_json(value)}" if self.values else f"{name} ({shape(value)})"

    def body(self, body: bytes, limit=120) -> str:
        """A body's start, or its length."""
        return _short(_text(body), limit) if self.values else f"a body of {len(body)} bytes"

    def identity(self, item, position: int) -> str:
        """A conversation by its id, or by its position in the walk (1 first)."""
        identity = item.get("id") if isinstance(item, dict) else None
        if self.values and isinstance(identity, str):
            return _short(identity, 40)
        return f"the conversation at position {position}"


SHAPES = Shown()


def _short(value, limit=120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json(value) -> str:
    """A value as JSON shows it, so the string "false" and the boolean false look different."""
    return _short(json.dumps(value, ensure_ascii=False))


def _messages(messages) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_messages(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return " ".join(_messages(m) for m in messages)
    return str(messages)


def item_problems(item, chatbot_id: str, shown: Shown = SHAPES) -> list:
    """(check, description) for everything wrong with one conversation object."""
    if not isinstance(item, dict):
        return [("item-type", f"an item that is not an object: {shown(item)}")]
    problems = []
    keys = list(item)
    missing = [name for name in FIELD_ORDER if name not in item]
    extra = [name for name in keys if name not in FIELD_ORDER]
    if missing:
        problems.append(("missing-field", f"missing {', '.join(missing)}"))
    if extra:
        problems.append(("extra-field", f"fields the document does not have: {', '.join(extra)}"))
    if not missing and not extra and keys != FIELD_ORDER:
        problems.append(("key-order", f"keys in this order: {', '.join(keys)}"))
    typed = True
    for name, schema_field in _conversation_schema.fields.items():
        if name not in item:
            continue
        try:
            schema_field.deserialize(item[name], name, item)
        except ValidationError as error:
            typed = False
            problems.append(("field-type", f"{shown.field(name, item[name])}: {_messages(error.messages)}"))
    if typed and not missing:
        try:
            _conversation_schema.load(item, unknown=EXCLUDE)
        except ValidationError as error:
            for name, messages in error.messages.items():
                check = "platform-shape" if name in PLATFORM_FIELDS else "field-rule"
                # The platform is a documented name (its type was checked): it says which rule.
                platform = f" (platform {item.get('platform')})" if check == "platform-shape" else ""
                where = shown.field(name, item[name]) if name in item else name
                problems.append((check, f"{where}{platform}: {_messages(messages)}"))
    if "chatbot_id" in item and item["chatbot_id"] != chatbot_id:
        problems.append(("chatbot-id", f"{shown.field('chatbot_id', item['chatbot_id'])}, another chatbot's"))
    return problems


def _describe_item(index, item, shown: Shown) -> str:
    identity = item.get("id") if isinstance(item, dict) else None
    if shown.values and isinstance(identity, str):
        return f"item {index} (id {_short(identity, 40)})"
    return f"item {index}"


EXPECTED = {
    "item-type": "every item a conversation object",
    "missing-field": "every documented field: " + ", ".join(FIELD_ORDER),
    "extra-field": "only the documented fields: " + ", ".join(FIELD_ORDER),
    "key-order": "keys in the documented order: " + ", ".join(FIELD_ORDER),
    "field-type": "each field of the documented type (schemas.ConversationSchema)",
    "platform-shape": "the per-platform shapes of the API document (schemas.ConversationSchema)",
    "field-rule": "the rules tying fields together (schemas.ConversationSchema)",
    "chatbot-id": "chatbot_id equal to the chatbot in the path",
}


def list_reply(reply: Reply, chatbot_id: str, checked: set, shown: Shown = SHAPES) -> Page:
    """Check a reply that should be a page of conversations; items whose id is in `checked` were
    held to the item rules on an earlier page, and ids of items checked now are added to it."""
    mismatches = []

    def report(check, expected, got):
        mismatches.append(Mismatch(check, reply.request, expected, got))

    if reply.status != 200:
        report("status", "200 with a page of conversations", f"{reply.status}: {shown.body(reply.body)}")
        return _failed(mismatches)
    if reply.media_type != "application/json":
        report("content-type", "Content-Type: application/json", f"Content-Type: {reply.header('content-type')}")
    try:
        document = json.loads(reply.body)
    except ValueError:
        report("json", "a JSON body", shown.body(reply.body))
        return _failed(mismatches)
    if not isinstance(document, list):
        # An object's keys are the server's field names, not data.
        if isinstance(document, dict):
            kind = "an object with keys " + _short(", ".join(document))
        else:
            kind = shown(document)
        report("bare-array", "a bare JSON array of conversations", kind)
        return _failed(mismatches)
    found = {}
    for index, item in enumerate(document):
        identity = item.get("id") if isinstance(item, dict) else None
        if isinstance(identity, str):
            if identity in checked:
                continue
            checked.add(identity)
        for check, description in item_problems(item, chatbot_id, shown):
            found.setdefault(check, []).append(f"{_describe_item(index, item, shown)}: {description}")
    for check, lines in found.items():
        more = f" (and {len(lines) - SHOWN_ITEMS} more items on this page)" if len(lines) > SHOWN_ITEMS else ""
        report(check, EXPECTED[check], "; ".join(lines[:SHOWN_ITEMS]) + more)
    total = reply.header("x-total-count")
    if total is not None and not (total.isascii() and total.isdigit()):
        report("total-count", "X-Total-Count: a whole number", f"X-Total-Count: {shown(total)}")
        total = None
    return Page(document, None if total is None else int(total), mismatches)


def _failed(mismatches):
    return Page([], None, mismatches, readable=False)


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace").strip()


def created_at(item):
    """The item's created_at as a moment, or None when it is not one."""
    if not isinstance(item, dict):
        return None
    try:
        return _conversation_schema.fields["created_at"].deserialize(item.get("created_at"))
    except ValidationError:
        return None


def order_problem(previous, current, position: int, shown: Shown = SHAPES) -> str | None:
    """Why `current`, at `position` in the walk (1 first), may not follow `previous` newest first, or None."""
    before, after = created_at(previous), created_at(current)
    if before is None or after is None or after <= before:
        return None
    if not shown.values:
        return (f"the conversation at position {position} is newer (created_at later) than the one "
                f"before it, at position {position - 1}")
    return (
        f"{_short(current.get('id'), 40)} (created_at {current['created_at']}) comes after the "
        f"older {_short(previous.get('id'), 40)} (created_at {previous['created_at']})"
    )


def error_reply(reply: Reply, expected_status: int, mock_status: int, shown: Shown = SHAPES) -> list:
    """Mismatches of a reply to a request the API must refuse with `expected_status`."""
    mismatches = []
    if reply.status != expected_status:
        if 400 <= reply.status < 500 and expected_status != 401:
            got = f"{reply.status}, a refusal, but the mock answers {mock_status}"
        else:
            got = f"{reply.status}: {shown.body(reply.body)}"
        check = "auth" if expected_status == 401 else "error-status"
        mismatches.append(Mismatch(check, reply.request, f"status {expected_status}", got))
    if not 400 <= reply.status < 500:
        return mismatches
    if reply.media_type != PROBLEM_CONTENT_TYPE:
        mismatches.append(
            Mismatch(
                "error-content-type",
                reply.request,
                f"Content-Type: {PROBLEM_CONTENT_TYPE}",
                f"Content-Type: {reply.header('content-type')}: {shown.body(reply.body, 80)}",
            )
        )
        return mismatches
    try:
        problem = ProblemSchema().load(json.loads(reply.body), unknown=INCLUDE)
        wrong = None if problem["status"] == reply.status else f"status {problem['status']} in the body"
    except (ValueError, ValidationError, TypeError) as error:
        wrong = _messages(error.messages) if isinstance(error, ValidationError) else "not a JSON object"
    if wrong:
        mismatches.append(
            Mismatch("error-body", reply.request, "a problem document: type, title, status, detail", wrong)
        )
    return mismatches
