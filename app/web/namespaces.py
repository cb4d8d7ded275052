"""The namespace of each request, and the journal: a WSGI layer just inside the safety layer.

A request names its namespace with the X-Mock-Namespace header, or with a /__mock/ns/{namespace}
prefix in front of its path (for a client that can only be given a base URL): the prefix moves
to SCRIPT_NAME, so routing, the fast path and the Link header's URLs all see the API's own path
under that base. Every request but the control API's own is recorded in its namespace's journal
when its status is known, whether the fast path or Flask answers it: one store write per request,
and no read.
"""

import os
import time
from urllib.parse import parse_qsl, quote

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
from conversations_mock.web.safety import MASK, REQUEST_ID_KEY, SAFE_PATH, TARGET_KEY, mask_secrets

NAMESPACE_KEY = "mock.namespace"
# A Problem an outer layer found; Flask raises it before anything else (the fast path leaves such requests).
REFUSED_KEY = "mock.refused"
# app.extensions key of the StoredChatbots (data/stored.py) each worker keeps.
STORED = "stored"
# Headers whose whole value is a credential: the journal shows the scheme at most.
_SECRET_HEADERS = {"HTTP_X_API_KEY", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE"}


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
    :param logger: where a journal write that failed is reported
    :param journal: False to record nothing (journal_size 0)
    """

    def __init__(self, wsgi_app, store, logger, journal=True):
        self.wsgi_app = wsgi_app
        self.store = store
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

        def recording(status, headers, exc_info=None):
            # Recorded before the body is sent: a client that has its answer finds it in the journal.
            self._record(namespace, environ, int(status[:3]))
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

    def _record(self, namespace, environ, status):
        try:
            self.store.record(namespace, journal_entry(namespace, environ, status))
            self._failing = False
        except StoreUnavailable as error:
            if not self._failing:  # said once per outage: under load it would fill the log
                self._failing = True
                self.logger.error("The journal cannot be written, requests go unrecorded: %s", error)


def journal_entry(namespace, environ, status) -> dict:
    """What the journal keeps of a request, API keys masked as in the log (`shown_entry` formats it).

    Kept raw where that is safe (time, path, the masked query string): this runs for every request,
    and formatting waits until someone reads the journal (docs/benchmarks.md).
    """
    headers = {}
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            shown = _HEADER_NAMES.get(name) or _header_name(name[5:])
        elif name in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            shown = _header_name(name)
        else:
            continue
        if name in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value and name != "HTTP_X_API_KEY" else ""
            headers[shown] = f"{scheme} {MASK}".lstrip()
        else:
            headers[shown] = mask_secrets(value)
    return {
        "time": time.time(),
        "method": environ.get("REQUEST_METHOD", ""),
        "path": environ.get("PATH_INFO", ""),
        "query": mask_secrets(environ.get("QUERY_STRING", "")),
        "target": environ.get(TARGET_KEY, ""),
        "status": status,
        "request_id": environ.get(REQUEST_ID_KEY, ""),
        "namespace": namespace,
        "worker": _PID[0],
        "headers": headers,
    }


def shown_entry(kept: dict) -> dict:
    """A journal entry as GET /__mock/requests lists it (JournalEntrySchema): ISO 8601 time, query by name."""
    first_values = {}
    for key, value in parse_qsl(kept["query"], keep_blank_values=True):
        first_values.setdefault(key, value)
    moment = kept["time"]
    return {
        **kept,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{int(moment % 1 * 1000):03d}Z",
        "path": quote(kept["path"].encode("latin-1", "replace"), safe=SAFE_PATH),
        "query": first_values,
    }


def _header_name(name: str) -> str:
    return name.replace("_", "-").title()


# The usual headers' names, spelt once: title-casing each name costs more than the rest of the entry.
_HEADER_NAMES = {
    f"HTTP_{name.upper().replace('-', '_')}": name
    for name in (
        "Host",
        "User-Agent",
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Connection",
        "X-Api-Key",
        "Origin",
        "Referer",
        "X-Request-Id",
        "Prefer",
        "Authorization",
        "Cookie",
        "X-Mock-Namespace",
        "Cache-Control",
    )
}
# This process's pid, renewed in a forked worker: os.getpid() is a system call per request otherwise.
_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))


def _refuse_bad_namespace():
    refused = request.environ.get(REFUSED_KEY)
    if refused is not None:
        raise refused


def init_app(app):
    """Answer a request whose namespace the layer refused with its problem, before any view."""
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_bad_namespace)
