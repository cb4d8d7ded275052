"""A page of conversations as HTTP: its headers and body, made here for the view and the fast path alike."""

from urllib.parse import urlencode

from conversations_mock.schemas import PageQuery

PAGE_CONTENT_TYPE = "application/json"


def link_header(base_url: str, query: PageQuery, total: int) -> str:
    """The Link header of a page: first, prev, next and last, each keeping page_size and state."""
    last = max(1, -(-total // query.page_size))
    relations = {"first": 1, "last": last}
    if query.page > 1:
        relations["prev"] = min(query.page - 1, last)
    if query.page < last:
        relations["next"] = query.page + 1
    # Page numbers are ints: only the state needs encoding, once for every relation.
    tail = f"&page_size={query.page_size}" + ("" if query.state is None else "&" + urlencode({"state": query.state}))
    return ", ".join(
        f'<{base_url}?page={relations[rel]}{tail}>; rel="{rel}"'
        for rel in ("first", "prev", "next", "last")
        if rel in relations
    )


def page_headers(base_url: str, query: PageQuery, total: int, body: bytes) -> list[tuple[str, str]]:
    """The headers of a 200 page, in the order both the view and the fast path send them.

    :param base_url: the page's URL without its query, which the Link header's URLs start with
    :param query: the page asked for
    :param total: how many conversations match the query's state filter
    :param body: the page's JSON bytes
    """
    return [
        ("Content-Type", PAGE_CONTENT_TYPE),
        ("Content-Length", str(len(body))),
        ("X-Total-Count", str(total)),
        ("Link", link_header(base_url, query, total)),
    ]
