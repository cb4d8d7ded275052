"""The namespace of each request, and the journal: a WSGI layer just inside the safety layer.

A request names its namespace with the X-Mock-Namespace header, or with a /__mock/ns/{namespace}
prefix in front of its path (for a client that can only be given a base URL): the prefix moves
to SCRIPT_NAME, so routing, the fast path and the Link header's URLs all see the API's own path
under that base. Every request but the control API's own is recorded in its namespace's journal
when its status is known, whether the fast path or Flask answers it: one store write per request,
and no read.
"""

import time

from flask import request

from conversations_mock.schemas.control import (
    CONTROL_PREFIX,
    NAMESPACE_HEADER,
    NAMESPACE_PREFIX,
    NAMESPACE_RULE,
    valid_namespace,
)
from conversations_mock.store import DEFAULT_NAMESPACE, StoreUnavailable
from conversations_mock.web.home import HEALTH_PATH
from conversations_mock.web.problems import Problem

NAMESPACE_KEY = "mock.namespace"
# Statuses whose Retry-After the journal keeps: what a client is told to wait after.
RETRY_AFTER_STATUSES = frozenset((429, 503))
# A Problem an outer layer found; Flask raises it before anything else (the fast path leaves such requests).
REFUSED_KEY = "mock.refused"
# app.extensions key of the StoredChatbots (data/stored.py) each worker keeps.
STORED = "stored"


def catalogue_for(app, environ):
    """The catalogue as the request's namespace sees it (stored chatbots first); may raise StoreUnavailable.

    An app without stored chatbots (one a test builds around FastPages) has its catalogue alone.
    """
    stored = app.extensions.get(STORED)
    catalogue = app.extensions["catalogue"]
    return catalogue if stored is None else stored.catalogue(catalogue, namespace_of(environ))


def is_control(path: str) -> bool:
    """Whether a path (without its namespace prefix) is the control API's."""
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def namespace_of(environ) -> str:
    """The request's namespace (the layer has checked it)."""
    return environ.get(NAMESPACE_KEY, DEFAULT_NAMESPACE)


class Namespaces:
    """WSGI layer: picks the request's namespace, and journals the request with the status it was answered.

    :param wsgi_app: what answers the request
    :param store: where the journal goes (app/store)
    :param entries: what makes each entry (web/journal.py: masks secrets, digests their values)
    :param logger: where a journal write that failed is reported
    :param journal: False to record nothing (journal_size 0)
    """

    def __init__(self, wsgi_app, store, entries, logger, journal=True):
        self.wsgi_app = wsgi_app
        self.store = store
        self.entries = entries
        self.logger = logger
        self.journal = journal
        self._failing = False

    def __call__(self, environ, start_response):
        namespace = self._namespace(environ)
        path = environ.get("PATH_INFO", "")
        # The control API's own requests and health probes are not what a test asks the journal about,
        # and probes every few seconds would push the requests it does out of the ring.
        if namespace is None or not self.journal or is_control(path) or path == HEALTH_PATH:
            return self.wsgi_app(environ, start_response)

        received = time.time()

        def recording(status, headers, exc_info=None):
            # Recorded before the body is sent: a client that has its answer finds it in the journal.
            code = int(status[:3])
            # Only these carry a Retry-After the verdicts check (web/verdicts.py): a 200 costs no header scan.
            retry_after = _retry_after(headers) if code in RETRY_AFTER_STATUSES else None
            self._record(namespace, environ, code, retry_after, received)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, recording)

    def _namespace(self, environ) -> str | None:
        """Set the request's namespace in the environ (None, and a refusal, when it names a bad one)."""
        named = environ.get("HTTP_X_MOCK_NAMESPACE")
        path = environ.get("PATH_INFO", "")
        if path.startswith(NAMESPACE_PREFIX):
            prefixed, slash, rest = path[len(NAMESPACE_PREFIX) :].partition("/")
            if not valid_namespace(prefixed):
                return self._refuse(environ, "namespace", f"{prefixed!r} in the path: {NAMESPACE_RULE}")
            if named is not None and named != prefixed:
                return self._refuse(
                    environ,
                    NAMESPACE_HEADER,
                    f"Says {named!r} but the path says {prefixed!r}; give one, or the same in both.",
                )
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + NAMESPACE_PREFIX + prefixed
            environ["PATH_INFO"] = slash + rest
            named = prefixed
        elif named is not None and not valid_namespace(named):
            return self._refuse(environ, NAMESPACE_HEADER, NAMESPACE_RULE)
        namespace = environ[NAMESPACE_KEY] = named or DEFAULT_NAMESPACE
        return namespace

    @staticmethod
    def _refuse(environ, name, message):
        environ[REFUSED_KEY] = Problem(
            422, f"The namespace is not valid: {message}", errors={name: [message]}
        )
        return None

    def _record(self, namespace, environ, status, retry_after=None, received=None):
        try:
            entry = self.entries.entry(namespace, environ, status, retry_after, received)
            self.store.record(namespace, entry)
            self._failing = False
        except StoreUnavailable as error:
            if not self._failing:  # said once per outage: under load it would fill the log
                self._failing = True
                self.logger.error("The journal cannot be written, requests go unrecorded: %s", error)


def _retry_after(headers) -> int | None:
    """The whole seconds of a Retry-After among the response's headers, or None (absent, or an HTTP date)."""
    for name, value in headers:
        if name.lower() == "retry-after":
            value = value.strip()
            return int(value) if value.isascii() and value.isdigit() else None
    return None


def _refuse_bad_namespace():
    refused = request.environ.get(REFUSED_KEY)
    if refused is not None:
        raise refused


def init_app(app):
    """Answer a request whose namespace the layer refused with its problem, before any view."""
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_bad_namespace)
