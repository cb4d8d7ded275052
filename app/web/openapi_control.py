"""The control API's part of the OpenAPI document (tag "control"), from the schemas in schemas/control.py.

The dashboard's routes (/__mock/ui...) are the control API's too: the same tag, the same access rules.
"""

from conversations_mock.schemas import PROBLEM_CONTENT_TYPE, ChatbotPathSchema
from conversations_mock.schemas.control import (
    CONTROL_PREFIX,
    NAMESPACE_HEADER,
    GeneratedQuerySchema,
    JournalEntrySchema,
    JournalQuerySchema,
    NamespaceHeaderSchema,
    SetChatbotSchema,
    StreamQuerySchema,
    VerdictSchema,
    VerdictsQuerySchema,
)
from conversations_mock.schemas.limits import RateLimitSchema, RateLimitStateSchema
from conversations_mock.schemas.faults import MAX_RULES, FaultRuleSchema, ShownFaultRuleSchema
from conversations_mock.web import dashboard
from conversations_mock.web.problems import HEADER_TEXTS, describe

TAG = {
    "name": "control",
    "description": "Set what the mock answers, per namespace, and read what it received "
    f"(open on a loopback host without an admin token; elsewhere `Authorization: Bearer <admin token>`, the one "
    "given or the one the server made and logged at start). A namespace is chosen "
    f"with the {NAMESPACE_HEADER} header or a `{CONTROL_PREFIX}/ns/{{namespace}}` prefix before any path.",
}
ADMIN_SCHEME = "AdminToken"
# The dashboard's routes also take the token as a browser's login (Basic: any user name, token as password).
LOGIN_SCHEME = "AdminLogin"
# Every control operation may answer these, besides its own.
COMMON_STATUSES = (401, 403, 422, 503)
_DETAILS = {
    204: "Done.",
    401: "An admin token is in force (given, or made at start past loopback) and the request did not send it as "
    "'Authorization: Bearer <token>'.",
    403: "No admin token is configured, and the request came from another machine.",
    404: "No conversations are set for this chatbot in this namespace.",
    422: "A parameter (the namespace, the chatbot id, a query parameter), a conversation or a fault rule is not "
    "valid; errors names each, conversations and rules by index, e.g. '[3].platform' or '[0].answer.fault'.",
    503: "The store cannot be reached; retry.",
}
_HEADERS = {
    401: {"WWW-Authenticate": 'Bearer realm="conversations-mock control".'},
    405: {"Allow": HEADER_TEXTS["Allow"]},
    503: {"Retry-After": HEADER_TEXTS["Retry-After"]},
}


def _response(status):
    if status == 204:
        return {"description": _DETAILS[204]}
    return {
        "description": _DETAILS.get(status, describe(status)),
        "headers": {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in _HEADERS.get(status, {}).items()
        },
        "content": {PROBLEM_CONTENT_TYPE: {"schema": "Problem"}},
    }


def _operation(operation_id, summary, statuses, parameters, ok=None, **extra):
    responses = {str(status): _response(status) for status in sorted({*statuses, *COMMON_STATUSES})}
    if ok:
        responses["200"] = ok
    return {
        "operationId": operation_id,
        "tags": ["control"],
        "summary": summary,
        # Open (no token) on a loopback host; a bearer token where one is configured.
        "security": [{}, {ADMIN_SCHEME: []}],
        # Fresh dicts per operation: apispec resolves (and consumes) each parameter's schema in place.
        "parameters": [{"in": "header", "schema": NamespaceHeaderSchema}, *(dict(p) for p in parameters)],
        "responses": responses,
        **extra,
    }


def _page_operation(operation_id, summary, statuses, parameters, content, description):
    """A dashboard route's operation: a control one answering `content`; its 401 asks for a login."""
    operation = _operation(operation_id, summary, statuses, parameters,
                           ok={"description": description, "content": content})
    operation["security"] = [*operation["security"], {LOGIN_SCHEME: []}]
    operation["responses"]["401"]["description"] = (
        "An admin token is in force (given, or made at start past loopback) and the request sent neither "
        "'Authorization: Bearer <token>' nor a login whose password is the token.")
    operation["responses"]["401"]["headers"] = {"WWW-Authenticate": {
        "description": dashboard.BASIC_CHALLENGE + ": a browser asks for a login (any user name, the admin "
        "token as the password).", "schema": {"type": "string"}}}
    return operation


def describe_dashboard(spec):
    """Add the dashboard's routes (/__mock/ui...) to `spec`; describe_control adds its security schemes."""
    ui = CONTROL_PREFIX + "/ui"
    files = sorted(dashboard.FILES)
    spec.path(path=ui, operations={"get": _page_operation(
        "dashboard", "The dashboard: the live journal, data, failures, clock and verdicts", (), [],
        {"text/html": {"schema": {"type": "string"}}},
        "The page; its script fills it from the control API. Scripts and styles from this origin only "
        "(Content-Security-Policy).")})
    spec.path(path=ui + "/{filename}", operations={"get": _page_operation(
        "dashboardFile", "The dashboard's script, style or icon", (404,),
        [{"in": "path", "name": "filename", "required": True, "schema": {"type": "string", "enum": files}}],
        {dashboard.FILES[name].split(";")[0]: {"schema": {"type": "string"}} for name in files},
        "The file, from the package; 404 for any other name.")})
    spec.components.schema("SetChatbot", schema=SetChatbotSchema)
    spec.path(path=ui + "/chatbots", operations={"get": _page_operation(
        "dashboardChatbots", "The chatbots this namespace has set, each with how many conversations", (), [],
        {"application/json": {"schema": {"type": "array", "items": "SetChatbot"}}},
        "By chatbot id; [] when none is set.")})
    spec.path(path=ui + "/generated/{chatbot_id}", operations={"get": _page_operation(
        "dashboardGenerated", "A chatbot's generated conversations at the mock's instant, to put", (),
        [{"in": "path", "schema": ChatbotPathSchema}, {"in": "query", "schema": GeneratedQuerySchema}],
        {"application/json": {"schema": {"type": "array", "items": "Conversation"}}},
        "Newest first, as PUT /__mock/chatbots/{chatbot_id}/conversations takes them.")})
    spec.path(path=ui + "/stream", operations={"get": _page_operation(
        "dashboardStream", "The namespace's journal as server-sent events", (),
        [{"in": "query", "schema": StreamQuerySchema}],
        {"text/event-stream": {"schema": {"type": "string"}}},
        f"First `retry: {dashboard.RETRY_MS}` and a `snapshot` event (the newest {dashboard.BATCH} entries, "
        "newest first), then, read every second, an `entries` event with what is new (or another `snapshot` "
        "when the journal was cleared, or an `: idle` comment). Each event's data is a JSON array of "
        f"JournalEntry. The stream ends after {dashboard.STREAM_S:.0f} seconds; an EventSource opens the "
        "next.")})


def _array_of(schema, description):
    return {
        "description": description,
        "content": {"application/json": {"schema": {"type": "array", "items": schema}}},
    }


def describe_control(spec):
    """Add the control API's paths, schemas, tag and security scheme to `spec` (an apispec APISpec)."""
    spec.tag(TAG)
    spec.components.security_scheme(
        ADMIN_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "The server's admin_token (--admin-token / MOCK_ADMIN_TOKEN), or, past loopback without "
            "one, the token the server made at start and printed in its log; not needed on a loopback host without one.",
        },
    )
    spec.components.security_scheme(
        LOGIN_SCHEME,
        {
            "type": "http",
            "scheme": "basic",
            "description": "For the dashboard in a browser: any user name, the admin token (as AdminToken's) "
            "as the password.",
        },
    )
    spec.components.schema("JournalEntry", schema=JournalEntrySchema)
    chatbot = [{"in": "path", "schema": ChatbotPathSchema}]
    spec.path(
        path=f"{CONTROL_PREFIX}/chatbots/{{chatbot_id}}/conversations",
        operations={
            "put": _operation(
                "setConversations",
                "Make a chatbot answer exactly these conversations in this namespace",
                (204, 400, 413),
                chatbot,
                description="The body is checked as fixture files are (the same schemas); nothing changes "
                "when any conversation is refused. Answers 204; from then on the API answers these, newest "
                "first, paged "
                "and filtered, in every worker.",
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "array", "items": "Conversation"}}},
                },
            ),
            "get": _operation(
                "getSetConversations",
                "The conversations set for a chatbot in this namespace",
                (404,),
                chatbot,
                ok=_array_of("Conversation", "What is set, newest first."),
            ),
            "delete": _operation(
                "forgetConversations",
                "Return a chatbot to its fixture's or generated conversations",
                (204,),
                chatbot,
            ),
        },
    )
    spec.components.schema("RateLimit", schema=RateLimitSchema)
    spec.components.schema("RateLimitState", schema=RateLimitStateSchema)
    spec.path(
        path=f"{CONTROL_PREFIX}/rate-limit",
        operations={
            "get": _operation(
                "getRateLimit",
                "The rate limit in force in this namespace, and where it comes from",
                (),
                [],
                ok={"description": "The rate limit each API key has in this namespace (null: none).",
                    "content": {"application/json": {"schema": "RateLimitState"}}},
            ),
            "put": _operation(
                "setRateLimit",
                "Give this namespace its own rate limit, or none",
                (204, 400),
                [],
                description="Every API key gets this budget in this namespace, in every worker and server, instead "
                "of the server's --rate-limit; null: no limit here. Each key's budget starts afresh. Past it, "
                "the API answers 429 with Retry-After; every answer to a limited key carries RateLimit-Policy, "
                "RateLimit and X-RateLimit-Limit, -Remaining and -Reset.",
                requestBody={"required": True, "content": {"application/json": {"schema": "RateLimit"}}},
            ),
            "delete": _operation(
                "forgetRateLimit",
                "Return this namespace to the server's --rate-limit",
                (204,),
                [],
            ),
        },
    )
    spec.path(
        path=f"{CONTROL_PREFIX}/requests",
        operations={
            "get": _operation(
                "listRequests",
                "The requests this namespace received, newest first",
                (),
                [{"in": "query", "schema": JournalQuerySchema}],
                ok=_array_of("JournalEntry", "The journal, newest first; API keys masked."),
            ),
            "delete": _operation("clearRequests", "Empty this namespace's journal", (204,), []),
        },
    )
    spec.components.schema("Verdict", schema=VerdictSchema)
    spec.path(
        path=f"{CONTROL_PREFIX}/verdicts",
        operations={
            "get": _operation(
                "listVerdicts",
                "What the mock noticed about how this namespace's clients behaved",
                (),
                [{"in": "query", "schema": VerdictsQuerySchema}],
                ok=_array_of("Verdict", "The verdicts, by their first request ([] for clients that behave)."),
                description="Judged from the namespace's journal (the requests GET /__mock/requests lists), "
                "so only from its newest journal_size entries. A request sent before an earlier 429's or "
                "503's Retry-After elapsed (same API key), three or more failed attempts of the same request "
                "in a row whose waits do not grow, a key refused with 401 three or more times after a first "
                "401, and the same successful request five or more times within a second each make one. API "
                "keys are never shown; with several servers on one Redis store, a key's requests are judged "
                "together, whichever server answered them.",
            ),
        },
    )
    spec.components.schema("FaultRule", schema=FaultRuleSchema)
    spec.components.schema("ShownFaultRule", schema=ShownFaultRuleSchema)
    spec.path(
        path=f"{CONTROL_PREFIX}/faults",
        operations={
            "put": _operation(
                "setFaults",
                "Make these fault rules this namespace's, replacing any",
                (204, 400, 413),
                [],
                description="A JSON array of at most "
                f"{MAX_RULES} rules, tried in order for each API request of the namespace after its key, path and "
                "query are checked: the first that applies answers it. A rule applies when its match holds, its "
                "rate picks the attempt and, given times, it has some left (counted across every worker and "
                "server). An answer is one of code (with retry_after for 429 or 503, and optionally a delay), "
                "fault, delay or dribble. A request whose Prefer header chooses a code or fault takes nothing "
                "from any rule. Nothing changes when any rule is refused (422 names it by index, e.g. "
                "'[0].answer.fault'). Answers 204; from the next request on, in every worker.",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": "FaultRule", "maxItems": MAX_RULES},
                            "example": [
                                {"times": 2, "answer": {"code": 503, "retry_after": 1}},
                                {"match": {"page": 2}, "rate": 0.2, "answer": {"fault": "connection-reset"}},
                            ],
                        }
                    },
                },
            ),
            "get": _operation(
                "getFaults",
                "This namespace's fault rules, with what is left of each",
                (),
                [],
                ok=_array_of("ShownFaultRule", "The rules in force, in order ([] when none are set)."),
            ),
            "delete": _operation("forgetFaults", "Remove this namespace's fault rules", (204,), []),
        },
    )
    spec.path(
        path=f"{CONTROL_PREFIX}/reset",
        operations={
            "post": _operation(
                "reset",
                "Forget this namespace's chatbots, rate limit, budgets, fault rules, counters and journal",
                (204,),
                [],
            ),
        },
    )
    describe_dashboard(spec)
