"""GET /chatbots/{chatbot_id}/conversations: check the request, pick the page, answer."""

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from marshmallow import RAISE, ValidationError
from webargs.flaskparser import FlaskParser

from app import scenarios
from app.errors import Problem
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
    challenge = f'ApiKey realm="conversations-mock", header="{API_KEY_HEADER}"'
    return Problem(401, detail, headers={"WWW-Authenticate": challenge})


def _link_header(page, page_size, state, total):
    last = max(1, -(-total // page_size))
    relations = {"first": 1, "last": last}
    if page > 1:
        relations["prev"] = min(page - 1, last)
    if page < last:
        relations["next"] = page + 1
    links = []
    for rel in ("first", "prev", "next", "last"):
        if rel in relations:
            query = {"page": relations[rel], "page_size": page_size}
            if state is not None:
                query["state"] = state
            links.append(f'<{request.base_url}?{urlencode(query)}>; rel="{rel}"')
    return ", ".join(links)


@blueprint.get(CONVERSATIONS_PATH.replace("<chatbot_id>", "<path:chatbot_id>"))
def list_conversations(chatbot_id):
    """List one page of a chatbot's conversations, newest first."""
    _check_api_key()
    chatbot_id = str(parser.parse(_path_schema, request, location="view_args")["chatbot_id"])
    query = parser.parse(_query_schema, request, location="query", unknown=RAISE)
    # The document types the body as any JSON: it is ignored, but JSON that does not parse is a 400.
    parser.load_json(request, _query_schema)
    state = query.get("state")
    # The Prefer header and the latency/error-rate settings: may wait, or raise the error asked for.
    scenario = scenarios.prepare(chatbot_id)
    total, body = scenario.page(
        current_app.extensions["catalogue"], chatbot_id, state, query["page"], query["page_size"]
    )
    response = Response(body, mimetype="application/json")
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = _link_header(query["page"], query["page_size"], state, total)
    return scenario.finish(response)
