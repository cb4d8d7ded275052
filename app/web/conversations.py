"""GET /chatbots/{chatbot_id}/conversations: check the request, pick the page, answer."""

import json

from conversations_mock.schemas import (
    API_KEY_HEADER,
    CONVERSATIONS_PATH,
    ApiKeyHeaderSchema,
    ChatbotPathSchema,
    ConversationsQuerySchema,
)
from conversations_mock.web import scenarios
from conversations_mock.web.admission import ADMISSION, Admission
from conversations_mock.web.fast import link_header
from conversations_mock.web.problems import Problem, api_key_challenge
from conversations_mock.web.replay import REPLAYABLE_KEY
from conversations_mock.web.safety import has_body
from flask import Blueprint, Response, current_app, request
from marshmallow import RAISE, ValidationError
from webargs.flaskparser import FlaskParser

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


def _admit():
    """(chatbot_id, page, page_size, state, base_url) of a valid request; raises its Problem otherwise.

    app/admission.py remembers what was admitted (the direct lane answers from the same verdicts);
    webargs loads what it has not seen or refuses, and words every refusal.
    """
    admission = current_app.extensions[ADMISSION]
    environ = request.environ
    if not admission.key_known(environ):
        _check_api_key()
        admission.remember_key(environ)
    path = admission.path(environ)
    if path is None:
        parsed = parser.parse(_path_schema, request, location="view_args")
        path = admission.remember_path(environ, str(parsed["chatbot_id"]), request.base_url, request.root_url)
    query = admission.query(environ)
    if query is None:
        parsed = parser.parse(_query_schema, request, location="query", unknown=RAISE)
        query = parsed["page"], parsed["page_size"], parsed.get("state")
    return path[0], *query, path[1]


@blueprint.record
def _add_admission(state):
    # One per app: apps built with other settings (accepted keys, base path) never share verdicts.
    state.app.extensions[ADMISSION] = Admission(state.url_prefix or "")


@blueprint.get(CONVERSATIONS_PATH.replace("<chatbot_id>", "<path:chatbot_id>"))
def list_conversations(chatbot_id):
    """List one page of a chatbot's conversations, newest first."""
    chatbot_id, page, page_size, state, base_url = _admit()
    # The document types the body as any JSON: it is ignored, but JSON that does not parse is a 400.
    # (No body, no parse: the safety middleware gives a chunked body a Content-Length.)
    if has_body(request.environ):
        parser.load_json(request, _query_schema)
    # The Prefer header and the latency/error-rate settings: may wait, or raise the error asked for.
    scenario = scenarios.prepare(chatbot_id)
    total, body = scenario.page(
        current_app.extensions["catalogue"], chatbot_id, state, page, page_size
    )
    response = Response(body, mimetype="application/json")
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = link_header(base_url, page, page_size, state, total)
    if not scenario.preferences:
        # An ordinary answer: app/fastpath.py may replay it to an exact repeat of this request.
        request.environ[REPLAYABLE_KEY] = True
    return scenario.finish(response)
