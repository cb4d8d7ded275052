"""The direct lane: an ordinary GET of a page is answered from WSGI, with the view's verdicts but not Flask's machinery.

Load tests and demos walk pages nobody asked for before, so the replay of exact repeats
(app/fastpath.py) cannot help them, and Flask's request and response objects, routing, hooks
and flask-cors cost as much as building the page. A GET with no body and no Prefer header,
whose key, path and query the admission (app/admission.py, the same schemas and memo the view
uses) accepts, and whose Origin's CORS headers are known, is answered here with the bytes and
headers the view would send (tested equal). Everything else goes to Flask: the first request of
a key, an Origin or a host, every refusal (webargs words it), scenarios and chaos settings, HEAD,
bodies and upgrades.
"""

from urllib.parse import urlencode

from conversations_mock.web.admission import ADMISSION
from conversations_mock.web.cors import REMEMBERED
from conversations_mock.web.replay import REPLAYABLE_KEY, plain
from conversations_mock.web.scenarios import chaos

# app.extensions key of the lane.
DIRECT = "direct"


def link_header(base_url, page, page_size, state, total):
    """The Link header of a page: first, prev, next and last, each keeping page_size and state."""
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


class DirectLane:
    """WSGI layer between the replay layer and Flask that answers ordinary GETs of a page itself."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        # Server-wide latency and errors are drawn per request in the view: the lane stays out then.
        self.enabled = not chaos(app.config["SETTINGS"])
        self._failed = False

    def __call__(self, environ, start_response):
        if not self.enabled or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        try:
            answer = self.answer(environ)
        except Exception:  # noqa: BLE001 - Flask's path answers the request, as a problem if it fails too
            if not self._failed:  # said once: under load a broken lane would fill the log
                self._failed = True
                self.app.logger.exception("The direct lane failed; this and later failing requests go through Flask")
            answer = None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        headers, body = answer
        environ[REPLAYABLE_KEY] = True  # as the view marks an ordinary answer, for app/fastpath.py
        start_response("200 OK", headers)
        return [body]

    def answer(self, environ):
        """(headers, body) the view would answer this request with, or None if it must go to Flask."""
        if not plain(environ):
            return None
        extensions = self.app.extensions
        admission, cors = extensions[ADMISSION], extensions[REMEMBERED]
        if not admission.key_known(environ):
            return None
        path = admission.path(environ)
        query = path and admission.query(environ)
        cors_headers = query and cors(environ)
        if cors_headers is None:
            return None
        (chatbot_id, base_url), (page, page_size, state) = path, query
        total, body = extensions["catalogue"].page(chatbot_id, state, page, page_size)
        # The view's Response: its Content-Type and Content-Length, then the view's headers, then CORS.
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Total-Count", str(total)),
            ("Link", link_header(base_url, page, page_size, state, total)),
            *cors_headers,
        ]
        return headers, body


def init_app(app):
    """Put the direct lane in front of Flask's own WSGI app (call before app/fastpath.py's replay layer)."""
    app.wsgi_app = DirectLane(app, app.wsgi_app)
    app.extensions[DIRECT] = app.wsgi_app
