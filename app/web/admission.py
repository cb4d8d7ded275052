"""Admission of a request's key, path and query, each verdict remembered: shared by the view and the direct lane.

The schemas decide what is valid. Loading them costs more than serving a cached page, so what
they admitted is remembered in parts, each under all it depends on: the key header, the path
(with the host and scheme, for the Link header's base URL) and the query string. A request
repeating a part reuses that verdict, so a never-requested page of a known chatbot loads only its
query, and a new chatbot only its path. Refusals are never remembered: a part that is refused,
or unusual enough to need werkzeug's full treatment, comes back None, and the view has webargs
word the refusal.
"""

import re
from urllib.parse import parse_qsl

from conversations_mock.data.catalogue import BoundedCache
from conversations_mock.schemas import CONVERSATIONS_PATH, ConversationsQuerySchema, canonical_chatbot_id
from marshmallow import RAISE, ValidationError

# app.extensions key of each app's Admission (the view's blueprint makes it).
ADMISSION = "conversations.admission"
# Bound on the verdicts (keys, paths, roots, query strings) each app remembers.
ADMITTED_CACHE = 4096
# What the chatbot id and base URL of a request depend on (the host and scheme, for the base URL).
PATH_ENVIRON = ("PATH_INFO", "SCRIPT_NAME", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme")
ROOT_ENVIRON = PATH_ENVIRON[1:]

_query_schema = ConversationsQuerySchema()
_page_field = _query_schema.fields["page"]


class Admission:
    """One app's remembered verdicts on API keys, paths and query strings."""

    def __init__(self, base_path: str = ""):
        self.memo = BoundedCache(ADMITTED_CACHE)
        # The view's route, for paths the direct lane answers without Flask's router.
        route = CONVERSATIONS_PATH.replace("<chatbot_id>", "(?P<chatbot_id>[^/]+)")
        self._route = re.compile(re.escape(base_path) + route)

    def key_known(self, environ) -> bool:
        """Whether the request's X-API-Key was admitted before."""
        return self.memo.recall(("key", environ.get("HTTP_X_API_KEY"))) is not None

    def remember_key(self, environ):
        """Remember that the request's X-API-Key is admitted."""
        self.memo.remember(("key", environ.get("HTTP_X_API_KEY")), True)

    def path(self, environ):
        """(chatbot_id, base_url) of the request's path, or None when the view must route and load it.

        A path not seen before is loaded here when the view has answered a request to the same host
        and mount before: Flask routed that host (werkzeug refuses some, such as an empty IDNA
        label, with a 400), and its root URL, remembered then, starts the base URL.
        """
        where = ("path", *(environ.get(name) for name in PATH_ENVIRON))
        known = self.memo.recall(where)
        if known is not None:
            return known
        path = environ.get("PATH_INFO", "")
        matched = self._route.fullmatch(path)
        root_url = self.memo.recall(("root", *(environ.get(name) for name in ROOT_ENVIRON)))
        if matched is None or root_url is None:
            return None
        try:
            chatbot_id = canonical_chatbot_id(matched["chatbot_id"])
        except ValidationError:
            return None
        # The schema admits hex digits and dashes only, and a base path only URL-safe characters:
        # such a path is the same text in a URI and an IRI, so werkzeug's base URL is its root URL
        # followed by the path (tests/test_schemas.py holds the schema to that).
        return self.memo.remember(where, (chatbot_id, root_url + path.lstrip("/")))

    def remember_path(self, environ, chatbot_id: str, base_url: str, root_url: str):
        """Remember the path as the view loaded it, and the root URL of its host; returns (chatbot_id, base_url)."""
        self.memo.remember(("root", *(environ.get(name) for name in ROOT_ENVIRON)), root_url)
        where = ("path", *(environ.get(name) for name in PATH_ENVIRON))
        return self.memo.remember(where, (chatbot_id, base_url))

    def query(self, environ):
        """(page, page_size, state) of the request's query string, or None when the schema refuses it.

        The query schema checks each parameter on its own (no schema-wide rule), so a query is
        valid when its page is and the rest of it is. Walking a chatbot's pages repeats the rest
        (page_size, state): its verdict is remembered, and only a new page goes through the
        schema's page field.
        """
        query_string = environ.get("QUERY_STRING", "")
        asked = ("query", query_string)
        known = self.memo.recall(asked)
        if known is not None:
            return known
        # As werkzeug parses request.args (the safety middleware has made the query ASCII).
        pairs = parse_qsl(query_string, keep_blank_values=True, errors="werkzeug.url_quote")
        values = dict(pairs)
        if len(values) != len(pairs):
            return None  # a repeated parameter: webargs (RequestParser) refuses it
        rest = None
        if "page" in values:
            rest = ("query-rest", *((name, value) for name, value in values.items() if name != "page"))
            known = self.memo.recall(rest)
            if known is not None:
                try:
                    return self.memo.remember(asked, (_page_field.deserialize(values["page"]), *known))
                except ValidationError:
                    return None
        try:
            loaded = _query_schema.load(values, unknown=RAISE)
        except ValidationError:
            return None
        if rest is not None:
            self.memo.remember(rest, (loaded["page_size"], loaded.get("state")))
        return self.memo.remember(asked, (loaded["page"], loaded["page_size"], loaded.get("state")))
