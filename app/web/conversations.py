"""GET /chatbots/{chatbot_id}/conversations: check the request, pick the page, answer."""

import json

from flask import Blueprint, current_app, request
from marshmallow import RAISE, ValidationError
from webargs.flaskparser import FlaskParser

from conversations_mock.schemas import (
    API_KEY_HEADER,
    CONVERSATIONS_PATH,
    ApiKeyHeaderSchema,
    ChatbotPathSchema,
    ConversationsQuerySchema,
    PageQuery,
)
from conversations_mock.web import scenarios
from conversations_mock.web.admission import ADMISSION
from conversations_mock.web.answers import ANSWERS
from conversations_mock.web.namespaces import catalogue_for
from conversations_mock.web.pages import PageRoute
from conversations_mock.web.problems import Problem, api_key_challenge
from conversations_mock.web.safety import has_body

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


def _page(catalogue, values: dict, query: PageQuery, at: int) -> tuple[int, bytes]:
    """A chatbot's page at instant `at`, as the catalogue holds it (scenarios aside)."""
    return catalogue.page(values["chatbot_id"], query, at=at)


# The route, declared once: this view serves it, and the fast path serves what the view taught it.
ROUTE = PageRoute(CONVERSATIONS_PATH, ChatbotPathSchema(), ConversationsQuerySchema(), _page)


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


@blueprint.get(ROUTE.rule.replace("<chatbot_id>", "<path:chatbot_id>"))
def list_conversations(chatbot_id):
    """List one page of a chatbot's conversations, newest first."""
    environ = request.environ
    admission = current_app.extensions[ADMISSION]
    _check_api_key()
    admission.learn_key(environ)
    values = parser.parse(ROUTE.path_schema, request, location="view_args")
    admission.learn_path(environ, ROUTE, values, request.base_url, request.root_url)
    query = parser.parse(ROUTE.query_schema, request, location="query", unknown=RAISE)
    admission.learn_query(environ, ROUTE, query)
    # The document types the body as any JSON: it is ignored, but JSON that does not parse is a 400.
    # (No body, no parse: the safety layer gives a chunked body a Content-Length.)
    if has_body(environ):
        parser.load_json(request, ROUTE.query_schema)
    # What answers, decided where the fast path decides it too (web/answers.py): limits, the route's own
    # checks, Prefer, fault rules, the error rate. The fast path may have decided already: the same Decision.
    decision = current_app.extensions[ANSWERS].decide(environ, ROUTE, values, query)
    return scenarios.answer(decision, ROUTE, catalogue_for(current_app, environ), values, query)
