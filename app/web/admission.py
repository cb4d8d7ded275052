"""What the view admitted, remembered so that the fast path can answer the same key, path and query.

The view validates every request it answers with webargs and the schemas, then teaches an
Admission what passed: the key header, the path (with the host and scheme, which the Link
header's base URL depends on) and the query string. The fast path answers only what the
Admission recognises. A query string, or a path of a page route, that it has not seen is loaded
here by the route's own schemas (for a host the view has routed), so walking new pages needs no
trip through Flask; anything refused, or unusual enough to need werkzeug's full treatment, comes
back None and goes to the view, which words the refusal. Refusals are never remembered.
"""

from dataclasses import replace
from urllib.parse import parse_qsl

from marshmallow import RAISE, ValidationError

from conversations_mock.data.cache import BoundedCache
from conversations_mock.schemas import PageQuery
from conversations_mock.web.pages import PageRoute

# app.extensions key of each app's Admission (create_app makes it; the view teaches it).
ADMISSION = "admission"
# Bound on the verdicts (keys, paths, roots, query strings) each app remembers.
ADMITTED_CACHE = 4096


# What a route's path values and base URL depend on: the path, the mount, and the host and scheme
# the base URL starts with. Spelt out, not looped over: every path not seen before makes both keys.
def _root(environ) -> tuple:
    """The memo key of the request's host and mount."""
    get = environ.get
    return ("root", get("SCRIPT_NAME"), get("HTTP_HOST"), get("SERVER_NAME"), get("SERVER_PORT"),
            get("wsgi.url_scheme"))


def _where(environ) -> tuple:
    """The memo key of the request's path on its host and mount."""
    get = environ.get
    return ("path", get("PATH_INFO"), get("SCRIPT_NAME"), get("HTTP_HOST"), get("SERVER_NAME"),
            get("SERVER_PORT"), get("wsgi.url_scheme"))


def _pairs(query_string: str) -> list:
    """The query's (name, value) pairs as werkzeug parses request.args (the safety layer has made it ASCII)."""
    if "%" in query_string or "+" in query_string:
        return parse_qsl(query_string, keep_blank_values=True, errors="werkzeug.url_quote")
    # Nothing to unquote: parse_qsl's split alone, at a fifth of its cost (every new page pays it).
    return [part.partition("=")[::2] for part in query_string.split("&") if part]


class Admission:
    """One app's remembered verdicts on API keys, the paths of its page routes and their query strings.

    :param routes: the app's page routes, each matched under `base_path`
    :param base_path: the prefix of every API path
    """

    def __init__(self, routes: list[PageRoute], base_path: str = ""):
        self.memo = BoundedCache(ADMITTED_CACHE)
        self._routes = [(route, route.pattern(base_path)) for route in routes]

    def key_known(self, environ) -> bool:
        """Whether the view admitted the request's X-API-Key before."""
        return self.memo.recall(("key", environ.get("HTTP_X_API_KEY"))) is not None

    def learn_key(self, environ):
        """Remember that the view admitted the request's X-API-Key."""
        self.memo.remember(("key", environ.get("HTTP_X_API_KEY")), True)

    def path(self, environ) -> tuple[PageRoute, dict, str] | None:
        """(route, path values, base_url) of the request's path, or None when the view must route and load it.

        A path not seen before is loaded here when the view has answered a request to the same host
        and mount before: Flask routed that host (werkzeug refuses some, such as an empty IDNA
        label, with a 400), and its root URL, learnt then, starts the base URL.
        """
        where = _where(environ)
        known = self.memo.recall(where)
        if known is not None:
            return known
        root_url = self.memo.recall(_root(environ))
        if root_url is None:
            return None
        path = environ.get("PATH_INFO", "")
        for route, pattern in self._routes:
            matched = pattern.fullmatch(path)
            if matched is None:
                continue
            try:
                values = route.path_schema.load(matched.groupdict())
            except ValidationError:
                return None
            # Path schemas admit URL-safe characters only (tests/schemas/test_schemas.py holds the
            # chatbot id to that), and so does a base path: such a path is the same text in a URI and
            # an IRI, so werkzeug's base URL is its root URL followed by the path.
            return self.memo.remember(where, (route, values, root_url + path.lstrip("/")))
        return None

    def learn_path(self, environ, route: PageRoute, values: dict, base_url: str, root_url: str):
        """Remember the path as the view loaded it for `route`, and the root URL of its host."""
        self.memo.remember(_root(environ), root_url)
        self.memo.remember(_where(environ), (route, values, base_url))

    def learn_query(self, environ, route: PageRoute, query: PageQuery):
        """Remember the query as the view loaded it for `route`."""
        self.memo.remember(("query", route.rule, environ.get("QUERY_STRING", "")), query)

    def query(self, environ, route: PageRoute) -> PageQuery | None:
        """The request's PageQuery for `route`, or None when the route's query schema refuses it.

        A query schema checks each parameter on its own (no schema-wide rule), so a query is
        valid when its page is and the rest of it is. Walking a chatbot's pages repeats the rest
        (page_size, state): its verdict is remembered, and only a new page goes through the
        schema's page field.
        """
        query_string = environ.get("QUERY_STRING", "")
        asked = ("query", route.rule, query_string)
        known = self.memo.recall(asked)
        if known is not None:
            return known
        pairs = _pairs(query_string)
        values = dict(pairs)
        if len(values) != len(pairs):
            return None  # a repeated parameter: the view's parser refuses it
        rest = None
        if "page" in values:
            page = values.pop("page")
            rest = ("query-rest", route.rule, *values.items())
            values["page"] = page
            known = self.memo.recall(rest)
            if known is not None:
                try:
                    page = route.query_schema.fields["page"].deserialize(page)
                except ValidationError:
                    return None
                return self.memo.remember(asked, replace(known, page=page))
        try:
            loaded = route.query_schema.load(values, unknown=RAISE)
        except ValidationError:
            return None
        if rest is not None:
            self.memo.remember(rest, loaded)
        return self.memo.remember(asked, loaded)
