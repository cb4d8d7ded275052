"""GET /chatbots/{chatbot_id}/conversations: check the request, pick the page, answer."""

import json
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from marshmallow import RAISE, ValidationError
from webargs.flaskparser import FlaskParser

from app import scenarios
from app.data.catalogue import BoundedCache
from app.errors import Problem, api_key_challenge
from app.fastpath import REPLAYABLE_KEY
from schemas import (
    API_KEY_HEADER,
    CONVERSATIONS_PATH,
    ApiKeyHeaderSchema,
    ChatbotPathSchema,
    ConversationsQuerySchema,
)

blueprint = Blueprint("conversations", __name__)


class RequestParser(FlaskParser):
    """webargs' Flask parser, answering with problem documents and refusing repeated parameters."""

    def load_querystring(self, req, schema):
        repeated = sorted(key for key, values in req.args.lists() if len(values) > 1)
        if repeated:
            raise ValidationError({key: ["Given more than once; send it once."] for key in repeated})
        return super().load_querystring(req, schema)

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        raise Problem(error_status_code or 422, errors=_flatten(error.messages))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise Problem(400, f"The body is sent as JSON but does not parse: {error}.")

    def _raw_load_json(self, req):
        # json.loads raises a plain ValueError past int()'s 4300-digit limit and RecursionError on deep
        # nesting: webargs turns neither into a 400, so they would be 500s.
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as error:
            self._handle_invalid_json_error(error, req)


def _flatten(messages):
    """webargs nests messages by location; clients want them by parameter name."""
    flat = {}
    for location_messages in messages.values():
        flat.update(location_messages if isinstance(location_messages, dict) else {"request": location_messages})
    return flat


parser = RequestParser()
_headers_schema = ApiKeyHeaderSchema()
_path_schema = ChatbotPathSchema()
_query_schema = ConversationsQuerySchema()
_PAGE_FIELD = _query_schema.fields["page"]
# Bound on the verdicts (keys, paths, query strings) each app remembers.
ADMITTED_CACHE = 4096
_ADMITTED = "conversations.admitted"
# What the chatbot id and base_url of a request depend on (the host and scheme, for base_url).
_PATH_ENVIRON = ("PATH_INFO", "SCRIPT_NAME", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme")


def _check_api_key():
    try:
        key = parser.parse(_headers_schema, request, location="headers")["api_key"]
    except Problem as problem:
        message = problem.errors.get(API_KEY_HEADER, ["Missing."])[0]
        if message == "Missing data for required field.":
            message = f"The {API_KEY_HEADER} header is missing."
        else:
            message = f"The {API_KEY_HEADER} header is not valid: {message}"
        raise _unauthorized(message) from None
    accepted = current_app.config["SETTINGS"]["api_keys"]
    if accepted and key not in accepted:
        raise _unauthorized(f"The {API_KEY_HEADER} header is not one of the keys this server accepts.")


def _unauthorized(detail):
    return Problem(401, detail, headers={"WWW-Authenticate": api_key_challenge()})


def _link_header(base_url, page, page_size, state, total):
    last = max(1, -(-total // page_size))
    relations = {"first": 1, "last": last}
    if page > 1:
        relations["prev"] = min(page - 1, last)
    if page < last:
        relations["next"] = page + 1
    # Built with f-strings (page numbers are ints): urlencode per relation cost more than the page.
    tail = f"&page_size={page_size}" + ("" if state is None else "&" + urlencode({"state": state}))
    return ", ".join(
        f'<{base_url}?page={relations[rel]}{tail}>; rel="{rel}"'
        for rel in ("first", "prev", "next", "last")
        if rel in relations
    )


def _admit():
    """(chatbot_id, page, page_size, state, base_url) of a valid request; raises its Problem otherwise.

    webargs and the schemas decide. Parsing costs more than serving a cached page, so what they
    admitted is remembered in three parts, each by all it depends on: the key header, the path
    (with the host, for base_url) and the query string. A request repeating a part reuses that
    verdict, so a never-requested page of a known chatbot parses only its query. Refusals are
    never remembered.
    """
    memo = current_app.extensions[_ADMITTED]
    environ = request.environ
    key = ("key", request.headers.get(API_KEY_HEADER))
    if memo.recall(key) is None:
        _check_api_key()
        memo.remember(key, True)
    where = ("path", *(environ.get(name) for name in _PATH_ENVIRON))
    path = memo.recall(where)
    if path is None:
        parsed = _load(_path_schema, request.view_args, "view_args")
        path = memo.remember(where, (str(parsed["chatbot_id"]), request.base_url))
    asked = ("query", environ.get("QUERY_STRING"))
    query = memo.recall(asked)
    if query is None:
        query = memo.remember(asked, _admit_query(memo))
    return path[0], *query, path[1]


def _admit_query(memo):
    """(page, page_size, state) of a query string not seen before; raises its Problem if refused.

    The query schema checks each parameter on its own (no schema-wide rule), so a query is valid
    when its page is and the rest of it is. Walking a chatbot's pages repeats the rest (page_size,
    state): its verdict is remembered, and only the new page goes through the schema's page field.
    """
    lists = list(request.args.lists())
    # A repeated parameter is refused by RequestParser.load_querystring: left to webargs.
    single = all(len(given) == 1 for _, given in lists)
    values = {name: given[0] for name, given in lists} if single else None
    rest = None
    if values is not None and "page" in values:
        rest = ("query-rest", *((name, value) for name, value in values.items() if name != "page"))
        known = memo.recall(rest)
        if known is not None:
            try:
                return _PAGE_FIELD.deserialize(values["page"]), *known
            except ValidationError:
                pass  # webargs words the refusal, below
    parsed = _load(_query_schema, values, "query", unknown=RAISE)
    if rest is not None:
        memo.remember(rest, (parsed["page_size"], parsed.get("state")))
    return parsed["page"], parsed["page_size"], parsed.get("state")


def _load(schema, values, location, **kwargs):
    """What webargs would load from `location`, by the same schema; webargs itself words a refusal.

    webargs' own pass costs twice the schema's, and a new page number or chatbot needs one: a
    valid request is loaded by the schema directly, anything it refuses goes through webargs.
    """
    if values is not None:
        try:
            return schema.load(values, **kwargs)
        except ValidationError:
            pass
    return parser.parse(schema, request, location=location, **kwargs)


@blueprint.record
def _add_admission_memo(state):
    # One memo per app: apps built with other settings (accepted keys, base path) never share verdicts.
    state.app.extensions[_ADMITTED] = BoundedCache(ADMITTED_CACHE)


@blueprint.get(CONVERSATIONS_PATH.replace("<chatbot_id>", "<path:chatbot_id>"))
def list_conversations(chatbot_id):
    """List one page of a chatbot's conversations, newest first."""
    chatbot_id, page, page_size, state, base_url = _admit()
    # The document types the body as any JSON: it is ignored, but JSON that does not parse is a 400.
    # (No body, no parse: the safety middleware gives a chunked body a Content-Length.)
    environ = request.environ
    if environ.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in environ:
        parser.load_json(request, _query_schema)
    # The Prefer header and the latency/error-rate settings: may wait, or raise the error asked for.
    scenario = scenarios.prepare(chatbot_id)
    total, body = scenario.page(
        current_app.extensions["catalogue"], chatbot_id, state, page, page_size
    )
    response = Response(body, mimetype="application/json")
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = _link_header(base_url, page, page_size, state, total)
    if not scenario.preferences:
        # An ordinary answer: app/fastpath.py may replay it to an exact repeat of this request.
        request.environ[REPLAYABLE_KEY] = True
    return scenario.finish(response)
