"""A page of conversations as HTTP: its headers and body, made here for the view and the fast path alike."""

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from operator import attrgetter
from urllib.parse import urlencode

from marshmallow import Schema

from conversations_mock.data.generator import timestamp_text
from conversations_mock.schemas import PageQuery

PAGE_CONTENT_TYPE = "application/json"
# The instant an answer was evaluated at, in the API's timestamp format: a client's "x minutes ago"
# counts from it, since the mock's clock may be frozen, elsewhere, or running faster than the wall's.
CLOCK_HEADER = "X-Mock-Clock"


@dataclass(frozen=True)
class PageRoute:
    """A GET route answering pages of a list, declared once: the view serves it, and teaches the fast path to.

    Adding such an endpoint means declaring its PageRoute beside its view and listing it in
    create_app; the fast path and the Admission serve any PageRoute as they are.

    :param rule: the route's Flask rule without the base path, e.g. "/chatbots/<chatbot_id>/conversations"
    :param path_schema: loads the rule's variables (the values `page` receives)
    :param query_schema: loads the query string into a PageQuery
    :param page: (catalogue, path values, query, instant) -> (total matching, JSON bytes of the page at
        that instant, in microseconds since the epoch)
    :param deciders: the route's own checks and answerers (web/answers.py Decider), run by the view and
        the fast path alike after admission, after the rate limit and before Prefer
    """

    rule: str
    path_schema: Schema
    query_schema: Schema
    page: Callable
    deciders: tuple = ()

    def pattern(self, base_path: str = "") -> re.Pattern:
        """The route under `base_path` as a regular expression, each <variable> one path segment."""
        parts = re.split(r"<(?:\w+:)?(\w+)>", self.rule)  # literal, name, literal, name, ..., literal
        return re.compile(re.escape(base_path) + "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)" for index, part in enumerate(parts)
        ))


@lru_cache(maxsize=4096)
def link_header(base_url: str, query: PageQuery, total: int) -> str:
    """The Link header of a page: first, prev, next and last, each keeping the query's other parameters."""
    last = max(1, -(-total // query.page_size))
    relations = {"first": 1, "last": last}
    if query.page > 1:
        relations["prev"] = min(query.page - 1, last)
    if query.page < last:
        relations["next"] = query.page + 1
    tail = _kept_parameters(_kept_values(query))
    return ", ".join(
        f'<{base_url}?page={relations[rel]}{tail}>; rel="{rel}"'
        for rel in ("first", "prev", "next", "last")
        if rel in relations
    )


def page_headers(base_url: str, query: PageQuery, total: int, body: bytes, at: int) -> list[tuple[str, str]]:
    """The headers of a 200 page, in the order both the view and the fast path send them.

    :param base_url: the page's URL without its query, which the Link header's URLs start with
    :param query: the page asked for
    :param total: how many conversations match the query's state filter
    :param body: the page's JSON bytes
    :param at: the instant the page was evaluated at (microseconds since the epoch)
    """
    return [
        ("Content-Type", PAGE_CONTENT_TYPE),
        ("Content-Length", str(len(body))),
        ("X-Total-Count", str(total)),
        ("Link", link_header(base_url, query, total)),
        clock_header(at),
    ]


def clock_header(at: int) -> tuple[str, str]:
    """The X-Mock-Clock header of an answer evaluated at instant `at` (microseconds since the epoch)."""
    return CLOCK_HEADER, timestamp_text(at)


def stamp_clock(clock):
    """A Flask after_request function giving every other answer (errors, health, control) the clock's
    instant when it was made; a page keeps the instant it was evaluated at (page_headers)."""

    def stamp(response):
        if CLOCK_HEADER not in response.headers:
            response.headers.set(*clock_header(clock().now_us()))
        return response

    return stamp


@lru_cache(maxsize=256)  # a few page sizes and filters are ever walked: each walk's pages share this
def _kept_parameters(values: tuple) -> str:
    """'&name=value' for every parameter of a query but the page (`values` in _KEPT's order); unset ones left out."""
    kept = []
    for name, value in zip(_KEPT, values):
        if value is None:
            continue
        # Whole numbers need no encoding: urlencode per parameter would cost more than the page.
        kept.append(f"&{name}={value}" if isinstance(value, int) else "&" + urlencode({name: value}))
    return "".join(kept)


# Every parameter of a PageQuery but the page, in its order: what each Link URL keeps.
_KEPT = tuple(field.name for field in fields(PageQuery) if field.name != "page")
# A query's values of _KEPT as a tuple, read in one C call (attrgetter of a single name returns the value alone).
_kept_values = attrgetter(*_KEPT) if len(_KEPT) > 1 else lambda query: (getattr(query, _KEPT[0]),)
