"""The control API's inputs and outputs: namespaces, a chatbot's conversations as set, the journal, and the
dashboard's queries."""

import re

from marshmallow import Schema, fields, validate

from conversations_mock.schemas.request import WholeNumber

NAMESPACE_HEADER = "X-Mock-Namespace"
# A short name: it travels in a header and a path segment, and names a key in the store.
NAMESPACE_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
NAMESPACE_RULE = "Must be 1 to 64 letters, digits, '.', '_' or '-'."
# Where the control API lives; no API path may start with it (the base_path setting refuses it).
CONTROL_PREFIX = "/__mock"
# The base-path form of a namespace: /__mock/ns/{namespace} in front of any path.
NAMESPACE_PREFIX = CONTROL_PREFIX + "/ns/"
# Entries each namespace's journal keeps by default, and at most (the journal_size setting; also the
# most one request may list).
JOURNAL_SIZE = 1000
MAX_JOURNAL_SIZE = 1_000_000
# Namespaces whose journals are kept by default (the journal_namespaces setting): CI jobs that take a
# fresh namespace each would otherwise grow the journals without bound.
JOURNAL_NAMESPACES = 100


def _namespace_field(**kwargs):
    return fields.String(
        validate=validate.Regexp(NAMESPACE_PATTERN.pattern + r"\Z", error=NAMESPACE_RULE),
        metadata={"pattern": "^" + NAMESPACE_PATTERN.pattern + "$", **kwargs.pop("metadata", {})},
        **kwargs,
    )


def valid_namespace(name: str) -> bool:
    """Whether `name` is a namespace's name."""
    return NAMESPACE_PATTERN.fullmatch(name) is not None


class NamespaceHeaderSchema(Schema):
    """The X-Mock-Namespace header: which namespace's data and journal a request uses (absent: default)."""

    namespace = _namespace_field(
        data_key=NAMESPACE_HEADER,
        metadata={
            "description": "The namespace whose data and journal this request uses; absent: 'default'. "
            "The same as the path prefix /__mock/ns/{namespace}.",
        },
    )


class JournalQuerySchema(Schema):
    """GET /__mock/requests: which entries of the namespace's journal to list."""

    error_messages = {"unknown": "Unknown query parameter; the journal takes path, namespace and limit."}

    path = fields.String(
        validate=validate.Regexp(r"/[^\s?#]{0,4093}\Z", error="Must be a path starting with '/'."),
        metadata={
            "description": "Only requests to this path (without the query), "
            "e.g. /chatbots/{chatbot_id}/conversations."
        },
    )
    namespace = _namespace_field(
        metadata={"description": "The namespace whose journal to list; wins over X-Mock-Namespace."}
    )
    limit = WholeNumber(
        validate=validate.Range(1, MAX_JOURNAL_SIZE),
        metadata={"description": "At most this many entries, newest first."},
    )


class JournalEntrySchema(Schema):
    """One request the mock received, as the journal lists it (API keys masked, as in the log)."""

    time = fields.String(required=True, metadata={"description": "When it was answered, UTC, ISO 8601 (ms)."})
    received = fields.String(
        required=True,
        metadata={"description": "When it reached the mock, UTC, ISO 8601 (ms); earlier than time by any "
                                 "delay it was answered with."},
    )
    method = fields.String(required=True)
    path = fields.String(required=True, metadata={"description": "The API path, without a namespace prefix."})
    query = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Each query parameter's first value."},
    )
    target = fields.String(
        required=True, metadata={"description": "Path and query as the access log shows them."}
    )
    status = fields.Integer(required=True)
    retry_after = fields.Integer(
        required=True, allow_none=True,
        metadata={"description": "The Retry-After (seconds) a 429 or 503 answer carried, or null."},
    )
    request_id = fields.String(required=True)
    fault = fields.String(
        required=True, allow_none=True,
        metadata={"description": "The transport fault the request was answered with (status 0: no status "
                                 "line was sent), or null."},
    )
    problem = fields.String(
        allow_none=True,
        metadata={"description": "The detail of the problem document an error was answered with, or null."},
    )
    applied = fields.String(
        allow_none=True,
        metadata={"description": "The preferences honoured, as Preference-Applied said them, or null."},
    )
    namespace = fields.String(required=True)
    worker = fields.Integer(required=True, metadata={"description": "The pid of the worker that answered."})
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


# What GET /__mock/verdicts may report (web/verdicts.py says when each is).
VERDICT_KINDS = (
    "retry-before-retry-after", "retry-without-backoff", "ignored-auth-error", "repeated-request")


class VerdictsQuerySchema(Schema):
    """GET /__mock/verdicts: which namespace's journal to judge."""

    error_messages = {"unknown": "Unknown query parameter; the verdicts take namespace."}

    namespace = _namespace_field(
        metadata={"description": "The namespace whose clients to judge; wins over X-Mock-Namespace."}
    )


class VerdictSchema(Schema):
    """Something the mock noticed about how a client behaved, from the namespace's journal."""

    kind = fields.String(required=True, validate=validate.OneOf(VERDICT_KINDS), metadata={
        "description": "retry-before-retry-after: a request sent before the Retry-After of an earlier 429 or "
        "503 to the same API key had elapsed; retry-without-backoff: three or more failed attempts of the "
        "same request in a row whose waits do not grow; ignored-auth-error: a key refused with 401 refused "
        "again three or more times; repeated-request: the same successful request five or more times "
        "within a second."})
    detail = fields.String(
        required=True, metadata={"description": "What was seen, in a sentence (no API key)."})
    request_ids = fields.List(fields.String(), required=True, metadata={
        "description": "The requests involved, oldest first, as the journal's request_id names them."})


class SetChatbotSchema(Schema):
    """GET /__mock/ui/chatbots: one chatbot the namespace has set, and how many conversations it answers."""

    id = fields.String(required=True, metadata={"description": "The chatbot's id."})
    conversations = fields.Integer(required=True, validate=validate.Range(min=0),
                                   metadata={"description": "How many conversations are set for it."})


class StreamQuerySchema(Schema):
    """GET /__mock/ui/stream: which namespace's journal the dashboard watches."""

    error_messages = {"unknown": "Unknown query parameter; the stream takes namespace."}

    namespace = _namespace_field(
        metadata={"description": "The namespace whose journal to stream; wins over X-Mock-Namespace."}
    )


# The most conversations the dashboard generates for one chatbot (each is put as a JSON array).
MAX_GENERATED = 1000
_RANGE = "Must be from {min} to {max}."


class GeneratedQuerySchema(Schema):
    """GET /__mock/ui/generated/{chatbot_id}: how many generated conversations, from which seed."""

    error_messages = {"unknown": "Unknown query parameter; give count and seed."}

    count = fields.Integer(required=True, validate=validate.Range(0, MAX_GENERATED, error=_RANGE),
                           metadata={"description": "How many conversations."})
    seed = fields.Integer(load_default=None, validate=validate.Range(0, 2**63 - 1, error=_RANGE),
                          metadata={"description": "The seed they are generated from; absent: the server's."})
