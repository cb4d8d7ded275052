"""The rules `verify` holds a server's answers to, each a named check; pure functions, no HTTP.

Every rule comes from the schemas the mock itself serves and checks fixtures with, so the mock
and the verifier cannot drift apart.
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


def item_problems(item, chatbot_id: str) -> list:
    """(check, description) for everything wrong with one conversation object."""
    if not isinstance(item, dict):
        return [("item-type", f"an item that is not an object: {_short(item)}")]
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
            problems.append(("field-type", f"{name} = {_json(item[name])}: {_messages(error.messages)}"))
    if typed and not missing:
        try:
            _conversation_schema.load(item, unknown=EXCLUDE)
        except ValidationError as error:
            for name, messages in error.messages.items():
                check = "platform-shape" if name in PLATFORM_FIELDS else "field-rule"
                shown = f" = {_json(item.get(name))}" if name in item else ""
                platform = f" (platform {item.get('platform')})" if check == "platform-shape" else ""
                problems.append((check, f"{name}{shown}{platform}: {_messages(messages)}"))
    if "chatbot_id" in item and item["chatbot_id"] != chatbot_id:
        problems.append(("chatbot-id", f"chatbot_id {_short(item['chatbot_id'])}"))
    return problems


def _describe_item(index, item) -> str:
    identity = item.get("id") if isinstance(item, dict) else None
    return f"item {index}" + (f" (id {_short(identity, 40)})" if isinstance(identity, str) else "")


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


def list_reply(reply: Reply, chatbot_id: str, checked: set) -> Page:
    """Check a reply that should be a page of conversations; items whose id is in `checked` were
    held to the item rules on an earlier page, and ids of items checked now are added to it."""
    mismatches = []

    def report(check, expected, got):
        mismatches.append(Mismatch(check, reply.request, expected, got))

    if reply.status != 200:
        report("status", "200 with a page of conversations", f"{reply.status}: {_short(_text(reply.body))}")
        return _failed(mismatches)
    if reply.media_type != "application/json":
        report("content-type", "Content-Type: application/json", f"Content-Type: {reply.header('content-type')}")
    try:
        document = json.loads(reply.body)
    except ValueError:
        report("json", "a JSON body", _short(_text(reply.body)))
        return _failed(mismatches)
    if not isinstance(document, list):
        kind = "an object with keys " + ", ".join(document) if isinstance(document, dict) else _short(document)
        report("bare-array", "a bare JSON array of conversations", kind)
        return _failed(mismatches)
    found = {}
    for index, item in enumerate(document):
        identity = item.get("id") if isinstance(item, dict) else None
        if isinstance(identity, str):
            if identity in checked:
                continue
            checked.add(identity)
        for check, description in item_problems(item, chatbot_id):
            found.setdefault(check, []).append(f"{_describe_item(index, item)}: {description}")
    for check, lines in found.items():
        more = f" (and {len(lines) - SHOWN_ITEMS} more items on this page)" if len(lines) > SHOWN_ITEMS else ""
        report(check, EXPECTED[check], "; ".join(lines[:SHOWN_ITEMS]) + more)
    total = reply.header("x-total-count")
    if total is not None and not (total.isascii() and total.isdigit()):
        report("total-count", "X-Total-Count: a whole number", f"X-Total-Count: {total}")
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


def order_problem(previous, current) -> str | None:
    """Why `current` may not follow `previous` in a newest-first list, or None."""
    before, after = created_at(previous), created_at(current)
    if before is not None and after is not None and after > before:
        return (
            f"{_short(current.get('id'), 40)} (created_at {current['created_at']}) comes after the "
            f"older {_short(previous.get('id'), 40)} (created_at {previous['created_at']})"
        )
    return None


def error_reply(reply: Reply, expected_status: int, mock_status: int) -> list:
    """Mismatches of a reply to a request the API must refuse with `expected_status`."""
    mismatches = []
    if reply.status != expected_status:
        if 400 <= reply.status < 500 and expected_status != 401:
            got = f"{reply.status}, a refusal, but the mock answers {mock_status}"
        else:
            got = f"{reply.status}: {_short(_text(reply.body))}"
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
                f"Content-Type: {reply.header('content-type')}: {_short(_text(reply.body), 80)}",
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
