"""The gunicorn worker: gevent, with gunicorn's own errors as problem+json and API keys masked in logs.

gunicorn answers requests it cannot parse (a request line or header past its limits, a malformed
request line) itself, before the app sees them, with a small HTML page. This worker makes those
answers the same problem documents the app sends.
"""

import uuid

import orjson
from conversations_mock.schemas import PROBLEM_CONTENT_TYPE
from conversations_mock.web.safety import MaskSecrets
from gunicorn import util
from gunicorn.workers.ggevent import GeventWorker


def _explain(status: int, message: str, cfg) -> str:
    """gunicorn's terse reason, reworded to say which limit was passed and how to change it."""
    if "Request Line is too large" in message:
        return (f"The request line (method, path and query) is longer than {cfg.limit_request_line} bytes: "
                f"{message}.")
    if "limit request headers fields size" in message:
        return f"A request header is longer than {cfg.limit_request_field_size} bytes."
    if "limit request headers fields" in message:
        return f"The request has more than {cfg.limit_request_fields} header fields."
    if status == 500 and not message:
        return "The mock server failed unexpectedly; its log has the details."
    return f"The request could not be parsed as HTTP: {message}."


def problem_writer(cfg):
    """A replacement for gunicorn.util.write_error that writes a problem document."""

    def write_problem(sock, status_int, reason, mesg):
        if status_int == 400 and "Request Line is too large" in mesg:
            # gunicorn says 400; RFC 9110 (15.5.15) has a status for a target longer than a server takes.
            status_int, reason = 414, "URI Too Long"
        body = orjson.dumps({
            "type": "about:blank",
            "title": reason,
            "status": status_int,
            "detail": _explain(status_int, mesg, cfg),
        })
        head = (
            f"HTTP/1.1 {status_int} {reason}\r\n"
            "Connection: close\r\n"
            f"Content-Type: {PROBLEM_CONTENT_TYPE}\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            # gunicorn refused the request before its headers were read: a fresh id, as for any request.
            f"X-Request-ID: {uuid.uuid4().hex}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        util.write_nonblock(sock, head.encode("latin-1") + body)

    return write_problem


class MockWorker(GeventWorker):
    """gunicorn's gevent worker, answering its own errors as problem+json and masking keys in logs."""

    def init_process(self):
        # gunicorn has no hook for the page it writes on a bad request; Worker.handle_error calls
        # util.write_error (with status, reason and message), so this worker process replaces it.
        util.write_error = problem_writer(self.cfg)
        for logger in (self.log.error_log, self.log.access_log):
            logger.addFilter(MaskSecrets())
        super().init_process()
