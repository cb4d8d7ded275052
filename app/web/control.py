"""The control API under /__mock: set chatbots and fault rules, read the journal and the verdicts, reset.

Tests and demos drive the mock with it, as WireMock's /__admin or Mockoon's admin API: in the
namespace the request names (web/namespaces.py), a PUT of a chatbot's conversations makes that
chatbot answer exactly those, from the next request on, in every worker. Writes answer 204, reads
200, a read of nothing set 404. Open on a loopback host; elsewhere `Authorization: Bearer TOKEN`.
"""

import base64
import hmac
import json

import orjson
from flask import Blueprint, Response, current_app, request
from marshmallow import RAISE, ValidationError

from conversations_mock.data.fixtures import ordered_dump
from conversations_mock.schemas import ChatbotFixtureSchema, ChatbotPathSchema
from conversations_mock.schemas.control import CONTROL_PREFIX, JournalQuerySchema, VerdictsQuerySchema
from conversations_mock.schemas.faults import FaultRuleSchema, load_rules
from conversations_mock.settings import is_loopback
from conversations_mock.web.conversations import parser
from conversations_mock.web.journal import journal_of, shown_entry
from conversations_mock.web.namespaces import namespace_of
from conversations_mock.web.problems import Problem
from conversations_mock.web.verdicts import judge

blueprint = Blueprint("control", __name__, url_prefix=CONTROL_PREFIX)
# app.extensions key of the app's Store (app/store).
STORE = "store"
CONVERSATIONS_RULE = "/chatbots/<path:chatbot_id>/conversations"
_chatbot_schema = ChatbotFixtureSchema()
_journal_query = JournalQuerySchema()
_verdicts_query = VerdictsQuerySchema()
_rules_dump = FaultRuleSchema(many=True)


def admin_challenge() -> str:
    """The WWW-Authenticate value of the control API's 401: a bearer token."""
    return 'Bearer realm="conversations-mock control"'


@blueprint.before_request
def check_access():
    """The control API's guard: loopback without a token, else the admin token (raises Problem 403 or 401)."""
    token = current_app.config["SETTINGS"]["admin_token"]
    if token is None:
        # serve makes a token for a host past loopback; gunicorn run directly may still bind one without.
        if not is_loopback(request.remote_addr or ""):
            raise Problem(
                403,
                "The control API without an admin_token answers this machine only; start the "
                "server with --admin-token / MOCK_ADMIN_TOKEN to reach it from others.",
            )
        return
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(_token_given(given).encode(), token.encode()):
        detail = "The control API needs 'Authorization: Bearer <admin token>' (--admin-token / MOCK_ADMIN_TOKEN, " + (
            "or the token the server printed in its log at start); "
        ) + ("none was sent." if not given else "the token sent is not the server's.")
        raise Problem(401, detail, headers={"WWW-Authenticate": admin_challenge()})


def _token_given(authorization: str) -> str:
    """The token an Authorization value carries: Bearer's, or Basic's password (a browser's login prompt,
    as the dashboard asks for it: any user name); "" when none.

    Basic credentials a browser remembers go with a foreign page's requests too: web/cors.py refuses a
    write from a page of another origin, and CORS lets no such page read an answer.
    """
    scheme, _, value = authorization.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer":
        return value
    if scheme == "basic":
        try:
            return base64.b64decode(value, validate=True).decode("utf-8").partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return ""
    return ""


def _store():
    return current_app.extensions[STORE]


def _chatbot_id(chatbot_id):
    return parser.parse(ChatbotPathSchema(), request, location="view_args")["chatbot_id"]


@blueprint.put(CONVERSATIONS_RULE)
def set_conversations(chatbot_id):
    """Make a chatbot answer exactly these conversations in the request's namespace."""
    chatbot_id = _chatbot_id(chatbot_id)
    conversations = _load_conversations(chatbot_id, request.get_data())
    _store().put_chatbot(namespace_of(request.environ), chatbot_id, orjson.dumps(ordered_dump(conversations)))
    return "", 204


@blueprint.get(CONVERSATIONS_RULE)
def get_conversations(chatbot_id):
    """The conversations set for a chatbot in the request's namespace, newest first."""
    chatbot_id = _chatbot_id(chatbot_id)
    namespace = namespace_of(request.environ)
    stored = _store().get_chatbot(namespace, chatbot_id)
    if stored is None:
        raise Problem(
            404,
            f"No conversations are set for chatbot {chatbot_id} in namespace {namespace!r}; "
            "it answers its fixture's or generated conversations.",
        )
    return Response(stored, mimetype="application/json")


@blueprint.delete(CONVERSATIONS_RULE)
def forget_conversations(chatbot_id):
    """Return a chatbot to its fixture's or generated conversations in the request's namespace."""
    _store().delete_chatbot(namespace_of(request.environ), _chatbot_id(chatbot_id))
    return "", 204


@blueprint.get("/requests")
def list_requests():
    """The namespace's journal, newest first, optionally of one path."""
    query = parser.parse(_journal_query, request, location="query", unknown=RAISE)
    namespace = query.get("namespace") or namespace_of(request.environ)
    limit = query.get("limit", current_app.config["SETTINGS"]["journal_size"])
    entries = journal_of(_store(), namespace, query.get("path"), limit)
    return Response(orjson.dumps([shown_entry(entry) for entry in entries]), mimetype="application/json")


@blueprint.delete("/requests")
def clear_requests():
    """Empty the namespace's journal."""
    _store().clear_journal(namespace_of(request.environ))
    return "", 204


@blueprint.get("/verdicts")
def list_verdicts():
    """What the mock noticed about the namespace's clients, judged from its journal (web/verdicts.py)."""
    query = parser.parse(_verdicts_query, request, location="query", unknown=RAISE)
    namespace = query.get("namespace") or namespace_of(request.environ)
    return Response(orjson.dumps(judge(journal_of(_store(), namespace))), mimetype="application/json")


@blueprint.put("/faults")
def set_faults():
    """Make these fault rules the namespace's, each with its full times; nothing changes if any is refused."""
    document = _json_body(request.get_data(), "fault rules")
    try:
        rules = load_rules(document)
    except ValidationError as error:
        errors = dict(item_errors(error.messages))
        raise Problem(
            422, f"{len(errors)} problem(s) in the rules; the rules in force stay. See errors.", errors=errors
        ) from None
    dumped = orjson.dumps(_rules_dump.dump(rules))
    _store().put_faults(namespace_of(request.environ), dumped, [rule.get("times") for rule in rules])
    return "", 204


@blueprint.get("/faults")
def get_faults():
    """The namespace's fault rules in order, each given times with what is left of them (times_left)."""
    stored = _store().faults(namespace_of(request.environ))
    if stored is None:
        return Response(b"[]", mimetype="application/json")
    shown = [
        rule if left is None else {**rule, "times_left": left}
        for rule, left in zip(orjson.loads(stored.rules), stored.left)
    ]
    return Response(orjson.dumps(shown), mimetype="application/json")


@blueprint.delete("/faults")
def forget_faults():
    """Remove the namespace's fault rules: its requests are answered as usual again."""
    _store().delete_faults(namespace_of(request.environ))
    return "", 204


@blueprint.post("/reset")
def reset():
    """Forget the namespace's chatbots, rate limit, budgets, fault rules, counters and journal."""
    _store().reset(namespace_of(request.environ))
    return "", 204


def _json_body(body: bytes, what: str):
    """The body parsed as JSON; raises Problem 400 naming `what` it should hold."""
    if not body.strip():
        raise Problem(400, f"The body is empty; send a JSON array of {what}.")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON, too deep, a number past 4300 digits
        raise Problem(400, f"The body does not parse as JSON: {error}.") from None


def _load_conversations(chatbot_id, body: bytes) -> list:
    """The body as conversations loaded by the fixture files' schemas; raises Problem 400 or 422."""
    document = _json_body(body, "conversations")
    if not isinstance(document, list):
        raise Problem(
            422,
            "The body must be a JSON array of conversations.",
            errors={"body": ["Must be a JSON array of conversations."]},
        )
    try:
        return _chatbot_schema.load({"id": chatbot_id, "conversations": document})["conversations"]
    except ValidationError as error:
        errors = dict(item_errors(error.messages.get("conversations", error.messages)))
        raise Problem(
            422,
            f"{len(errors)} problem(s) in the conversations; nothing was changed. See errors.",
            errors=errors,
        ) from None


def item_errors(messages, path=""):
    """marshmallow's nested messages as ('[3].platform', [messages]) pairs, items by index."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            step = path if key == "_schema" else f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"
            yield from item_errors(value, step)
    else:
        yield (path or "body"), messages if isinstance(messages, list) else [str(messages)]
