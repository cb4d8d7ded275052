"""Every problem document the mock answers with (RFC 9457): one shape, and one wording per status.

The view's errors, the scenarios' simulated statuses, the gunicorn worker's own refusals and
the OpenAPI document's examples are all made here, so a status reads the same wherever it is sent.
"""

from http import HTTPStatus

import orjson
from flask import Response, current_app, has_request_context, request
from werkzeug.exceptions import HTTPException

from conversations_mock.schemas import API_KEY_HEADER, PROBLEM_CONTENT_TYPE, ProblemSchema
from conversations_mock.store import StoreLost, StoreUnavailable

_problem_schema = ProblemSchema()

# Seconds a client is told to wait after a 429 or a 503.
RETRY_AFTER_SECONDS = 1
# WSGI environ key of the detail of the problem a request was answered with (the journal keeps it).
PROBLEM_KEY = "mock.problem"
# What each status means for a client of this API, where the bare HTTP phrase says too little.
# {base} is the API's base path.
DETAILS = {
    400: "The request is malformed.",
    401: f"The {API_KEY_HEADER} header is missing or not an accepted key.",
    403: "This API key may not read this chatbot's conversations.",
    404: "No such resource. The API serves GET {base}/chatbots/{{chatbot_id}}/conversations.",
    405: "This method is not allowed here; the Allow header lists the ones that are.",
    413: "The request body is larger than the server accepts.",
    414: "The request line (method, path and query) is longer than the server accepts.",
    422: "One or more parameters are not valid; see errors.",
    429: "Too many requests; retry after {wait}.",
    500: "The server failed unexpectedly.",
    502: "An upstream service answered with an error.",
    503: "The service is unavailable; retry after {wait}.",
    504: "An upstream service did not answer in time.",
}
# What the headers some problems carry tell a client, as the OpenAPI document describes them (the API's and
# the control API's operations alike).
HEADER_TEXTS = {
    "Allow": "The methods the path allows.",
    "Retry-After": "Seconds to wait before trying again.",
}
# Where Python's phrase is older than RFC 9110's name for the status.
_TITLES = {414: "URI Too Long"}
# Added to the 500 of a real failure (not a simulated one): the traceback is logged, never sent.
LOGGED = " The mock's log has the details."


def title(status: int) -> str:
    """The status's name, as RFC 9110 gives it: the problem's title and the status line's reason."""
    return _TITLES.get(status) or HTTPStatus(status).phrase


def describe(status: int, base_path: str = "", retry_after: int = RETRY_AFTER_SECONDS) -> str:
    """The detail a `status` says when nothing more precise is known (a 429 or 503 names `retry_after`)."""
    wait = f"{retry_after} second" + ("" if retry_after == 1 else "s")
    return DETAILS.get(status, HTTPStatus(status).description).format(base=base_path, wait=wait)


def simulated_detail(status: int, base_path: str = "", retry_after: int = RETRY_AFTER_SECONDS) -> str:
    """The detail of a status a request asked for with `Prefer: code=...`."""
    return (f"{describe(status, base_path, retry_after)} "
            f"(Simulated: the request asked for it with 'Prefer: code={status}'.)")


def problem_document(status: int, detail: str | None = None, errors=None, base_path: str = "") -> dict:
    """The problem document of `status`: type, title, status, detail and, when given, errors."""
    document = {
        "type": "about:blank",
        "title": title(status),
        "status": status,
        "detail": detail or describe(status, base_path),
    }
    if errors:
        document["errors"] = errors
    return _problem_schema.dump(document)


def problem_body(status: int, detail: str | None = None, errors=None, base_path: str = "") -> bytes:
    """The problem document of `status` as the JSON bytes sent."""
    return orjson.dumps(problem_document(status, detail, errors, base_path))


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
    """The problem+json response of `status`, in the current app."""
    base = current_app.config["SETTINGS"]["base_path"] if current_app else ""
    document = problem_document(status, detail, errors, base)
    if has_request_context():  # the journal keeps the detail of what it answered (web/journal.py)
        request.environ[PROBLEM_KEY] = document["detail"]
    response = Response(orjson.dumps(document), status=status, mimetype=PROBLEM_CONTENT_TYPE)
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


def _from_store(error: StoreUnavailable):
    # Never an answer without the data a test set: the client retries, and the store may be back.
    current_app.logger.error("The store cannot be reached: %s", error)
    return problem_response(
        503, f"The store ({error}) cannot be reached, so the data set for this namespace cannot be read; "
        f"retry after {RETRY_AFTER_SECONDS} second.", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _from_lost(error: StoreLost):
    # No Retry-After: retrying does not bring the data back, a reset or a new PUT does.
    return problem_response(503, error.loss.detail)


def _from_unexpected(error: Exception):
    current_app.logger.exception("Unexpected failure")
    return problem_response(500, describe(500) + LOGGED)


def init_app(app):
    """Answer every error the app can raise with a problem document."""
    app.register_error_handler(Problem, _from_problem)
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(StoreLost, _from_lost)
    app.register_error_handler(StoreUnavailable, _from_store)
    app.register_error_handler(Exception, _from_unexpected)
