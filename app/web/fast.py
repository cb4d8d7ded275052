"""The fast path: an ordinary GET of a page route the view has taught it to recognise, answered without Flask.

Load tests, demos and CI walk pages over and over, and Flask's request and response objects,
routing, hooks and flask-cors cost as much as building the page. A GET with no body, no Prefer
header and no upgrade, whose key, path and query the Admission recognises (web/admission.py)
and whose Origin's CORS headers the view has learnt (web/cors.py), is answered here by its
PageRoute's page, with the headers web/pages.py makes for the view too and the CORS headers
flask-cors gave that Origin. Any PageRoute is served so; nothing here names one. Like the view,
it asks web/answers.py what answers each request it admits (rate limit, the route's checks, fault
rules, error rate): a Decision that changes more than a delay and headers goes to the view, which
finds the same Decision in the environ. Everything else goes to Flask: the first request of a key,
an Origin or a host, every refusal, Prefer, HEAD, bodies and upgrades. Nothing is decided here
that the view has not decided first.

Usage, as create_app stacks it::

    FastPages(flask_wsgi_app, app=app, admission=admission, cors_headers=learnt_cors_headers, answers=answers)
"""


from conversations_mock.store import StoreUnavailable
from conversations_mock.web.namespaces import REFUSED_KEY, catalogue_for
from conversations_mock.web.pages import page_headers
from conversations_mock.web.problems import Problem
from conversations_mock.web.safety import has_body
from conversations_mock.web.waits import ABANDONED_KEY, ABANDONED_STATUS, wait


def is_ordinary(environ) -> bool:
    """Whether the request asks for a page and nothing more: no Prefer header, no body, no upgrade.

    werkzeug's router refuses a websocket upgrade to the page's route with a 400: Flask answers it.
    """
    return not ("HTTP_PREFER" in environ or "HTTP_UPGRADE" in environ or REFUSED_KEY in environ
                or has_body(environ))


class FastPages:
    """WSGI layer in front of Flask that answers ordinary GETs of a page itself.

    :param wsgi_app: Flask's own WSGI app, which answers everything this layer does not
    :param app: the Flask app, whose `extensions["catalogue"]` (swapped by reloads and the pytest
        plugin) holds the data
    :param admission: what the view admitted (web/admission.py)
    :param cors_headers: environ -> the CORS headers the view learnt for its Origin, or None
    :param answers: what decides what answers each request (web/answers.py), as for the view
    """

    def __init__(self, wsgi_app, app, admission, cors_headers, answers):
        self.wsgi_app = wsgi_app
        self.app = app
        self.admission = admission
        self.cors_headers = cors_headers
        self.answers = answers
        self.enabled = True
        self._failed = False

    def __call__(self, environ, start_response):
        if not self.enabled or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        try:
            answer = self.answer(environ)
        except (StoreUnavailable, Problem):
            answer = None  # Flask's path answers: 503 naming the store, or the problem a decider raised
        except Exception:  # noqa: BLE001 - Flask's path answers the request, as a problem if it fails too
            if not self._failed:  # said once: under load a broken fast path would fill the log
                self._failed = True
                self.app.logger.exception(
                    "The fast path failed; this and later failing requests go through Flask"
                )
            answer = None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        headers, body = answer
        start_response(ABANDONED_STATUS if ABANDONED_KEY in environ else "200 OK", headers)
        return [body]

    def answer(self, environ) -> tuple[list, bytes] | None:
        """(headers, body) the view would answer this request with, or None if it must go to Flask."""
        if not is_ordinary(environ) or not self.admission.key_known(environ):
            return None
        path = self.admission.path(environ)
        query = path and self.admission.query(environ, path[0])
        cors = query and self.cors_headers(environ)
        if cors is None:
            return None
        route, values, base_url = path
        decision = self.answers.decide(environ, route, values, query)
        if decision is not None and not decision.plain:
            return None  # the view answers it with the same Decision (kept in the environ)
        catalogue = catalogue_for(self.app, environ)
        at = catalogue.clock.now_us()  # once: the body and its X-Mock-Clock header name the same instant
        total, body = route.page(catalogue, values, query, at)
        headers = [*page_headers(base_url, query, total, body, at), *cors]
        if decision is None:
            return headers, body
        if decision.delay_ms and wait(environ, decision.delay_ms / 1000):  # gevent's: holds no worker
            return [], b""  # the client left during the delay: 499 (web/waits.py)
        return [*headers, *decision.headers], body
