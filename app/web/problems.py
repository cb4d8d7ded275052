"""Every failure as application/problem+json (RFC 9457): one shape, never HTML or a traceback."""

from http import HTTPStatus

import orjson
from flask import Response, current_app
from werkzeug.exceptions import HTTPException

from conversations_mock.schemas import API_KEY_HEADER, PROBLEM_CONTENT_TYPE, ProblemSchema

_problem_schema = ProblemSchema()

# What each status means for a client of this API, where the bare HTTP phrase says too little.
DETAILS = {
    400: "The request is malformed.",
    401: f"The {API_KEY_HEADER} header is missing or not an accepted key.",
    404: "No such resource. The API serves GET {base}/chatbots/{{chatbot_id}}/conversations.",
    405: "This method is not allowed here; the Allow header lists the ones that are.",
    413: "The request body is larger than the server accepts.",
    422: "One or more parameters are not valid; see errors.",
    500: "The mock server failed unexpectedly; its log has the details.",
}


def api_key_challenge() -> str:
    """The WWW-Authenticate value of a 401: which header carries the key."""
    return f'ApiKey realm="conversations-mock", header="{API_KEY_HEADER}"'


class Problem(Exception):
    """An error a view raises to answer with a problem document."""

    def __init__(self, status: int, detail: str | None = None, errors=None, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def problem_response(status: int, detail: str | None = None, errors=None, headers=None) -> Response:
    """Build the problem+json response for `status`."""
    base = current_app.config["SETTINGS"]["base_path"] if current_app else ""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or DETAILS.get(status, HTTPStatus(status).description).format(base=base),
    }
    if errors:
        body["errors"] = errors
    response = Response(orjson.dumps(_problem_schema.dump(body)), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.update(headers or {})
    return response


def _from_problem(error: Problem):
    return problem_response(error.status, error.detail, error.errors, error.headers)


def _from_http(error: HTTPException):
    headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
    detail = None
    if error.code == 413 and current_app.config.get("MAX_CONTENT_LENGTH") is not None:
        detail = f"The request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes."
    return problem_response(error.code or 500, detail, headers=headers)


def _from_unexpected(error: Exception):
    current_app.logger.exception("Unexpected failure")
    return problem_response(500)


def init_app(app):
    """Answer every error the app can raise with a problem document."""
    app.register_error_handler(Problem, _from_problem)
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(Exception, _from_unexpected)
