"""`conversations-mock verify`: hold a deployment of the API to the rules the mock follows."""

import http.client
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, ProxyHandler, Request, build_opener

from marshmallow import ValidationError

from conversations_mock.commands.verify_checks import (
    SHAPES,
    Mismatch,
    Reply,
    Shown,
    error_reply,
    list_reply,
    order_problem,
)
from conversations_mock.schemas import API_KEY_HEADER, CONVERSATIONS_PATH, STATES, canonical_chatbot_id
from conversations_mock.settings import is_loopback

DEFAULT_MAX_PAGES = 50
DEFAULT_TIMEOUT = 10.0
# Far past a page of 100 conversations; a server streaming without end is cut off here.
MAX_BODY = 16 * 1024 * 1024
MOCK_REFUSAL = 422
SHOWN_PER_CHECK = 5
# What a header value can carry: printable ASCII, spaces inside only (HTTP trims them at the ends).
KEY_PATTERN = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")


class Unreachable(Exception):
    """The server did not answer: refused, timed out, or not speaking HTTP."""


class UsageError(Exception):
    """An argument that cannot be used."""


class _NoRedirects(HTTPRedirectHandler):
    """A redirect is an answer to report, and following it would send the key to another URL."""

    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """GET requests to one deployment, counted, each bounded by a timeout and a body size."""

    def __init__(self, base_url: str, api_key: str, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.count = 0
        # Proxies from the environment are for the outside world, never for this machine.
        local = is_loopback(urlsplit(base_url).hostname or "")
        handlers = [_NoRedirects()] + ([ProxyHandler({})] if local else [])
        self._opener = build_opener(*handlers)

    def get(self, path: str, query=None, with_key=True) -> Reply:
        """One GET; an HTTP error status is a Reply like any other."""
        target = quote(path) + (f"?{urlencode(query)}" if query else "")
        shown = f"GET {target}" + ("" if with_key else f" without {API_KEY_HEADER}")
        headers = {"Accept": "application/json"}
        if with_key:
            headers[API_KEY_HEADER] = self.api_key
        self.count += 1
        try:
            with self._opener.open(Request(self.base_url + target, headers=headers), timeout=self.timeout) as response:
                return Reply(shown, response.status, _headers(response.headers), response.read(MAX_BODY))
        except HTTPError as error:
            with error:
                return Reply(shown, error.code, _headers(error.headers), error.read(MAX_BODY))
        except (URLError, OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", None) or error
            raise Unreachable(f"{shown}: {reason}") from error


def _headers(message) -> dict:
    return {name.lower(): value for name, value in message.items()}


@dataclass
class Walk:
    """The pages of one listing, walked from page 1 until a short page or the page limit."""

    items: list = field(default_factory=list)
    totals: list = field(default_factory=list)
    complete: bool = False


class Verifier:
    """Runs every check against one chatbot of one deployment and collects the mismatches."""

    def __init__(self, client: Client, chatbot_id: str, max_pages: int, shown: Shown = SHAPES):
        self.client = client
        self.shown = shown  # the values found, or (by default) their shapes only
        self.chatbot_id = chatbot_id
        self.max_pages = max_pages
        self.path = CONVERSATIONS_PATH.replace("<chatbot_id>", chatbot_id)
        self.mismatches = []
        self.notes = []
        self.checked = set()  # ids of conversations already held to the item rules

    def report(self, check, request, expected, got):
        self.mismatches.append(Mismatch(check, request, expected, got))

    def run(self):
        """Walk the listing, compare page sizes, the state filter and refusals."""
        main = self.walk(10)
        self.compare_page_sizes(main)
        self.check_states(main)
        self.check_refusals()
        return self.mismatches

    def list_page(self, query):
        reply = self.client.get(self.path, query)
        page = list_reply(reply, self.chatbot_id, self.checked, self.shown)
        self.mismatches.extend(page.mismatches)
        if len(page.items) > query["page_size"]:
            self.report("page-size", reply.request, f"at most {query['page_size']} items", f"{len(page.items)} items")
        return reply, page

    def walk(self, page_size, state=None) -> Walk:
        """Walk pages 1, 2, ... checking order, duplicates and X-Total-Count on the way."""
        walk, seen = Walk(), set()
        for number in range(1, self.max_pages + 1):
            query = {"page": number, "page_size": page_size, **({"state": state} if state else {})}
            reply, page = self.list_page(query)
            if not page.readable:
                return walk
            if page.total is not None:
                walk.totals.append(page.total)
            self._follow(walk, seen, reply, page.items)
            if len(page.items) < page_size:
                walk.complete = True
                break
        else:
            label = f"state={state}, page_size={page_size}" if state else f"page_size={page_size}"
            self.notes.append(f"the walk with {label} stopped at --max-pages {self.max_pages}; later pages are unchecked")
        self._check_totals(walk, reply)
        return walk

    def _follow(self, walk, seen, reply, items):
        """Extend the walk by one page: newest first and no conversation twice, across pages too."""
        disorder, repeats = [], []
        for item in items:
            position = len(walk.items) + 1
            if walk.items:
                problem = order_problem(walk.items[-1], item, position, self.shown)
                if problem:
                    disorder.append(problem)
            identity = item.get("id") if isinstance(item, dict) else None
            if isinstance(identity, str):
                if identity in seen:
                    repeats.append(self.shown.identity(item, position))
                seen.add(identity)
            walk.items.append(item)
        if disorder:
            more = f" (and {len(disorder) - 1} more on this page)" if len(disorder) > 1 else ""
            self.report("order", reply.request, "newest created_at first, within and across pages", disorder[0] + more)
        if repeats:
            self.report(
                "duplicates", reply.request, "each conversation once across the pages",
                f"{len(repeats)} already listed on this or an earlier page: {', '.join(repeats[:3])}",
            )

    def _check_totals(self, walk, reply):
        if not walk.totals:
            return
        # Repeats are reported as duplicates; the header counts distinct conversations.
        found = len({_identity(item) for item in walk.items})
        if len(set(walk.totals)) > 1:
            self.report("total-count", reply.request, "the same X-Total-Count on every page",
                        "X-Total-Count per page: " + ", ".join(map(str, walk.totals)))
        elif walk.complete and walk.totals[0] != found:
            self.report("total-count", reply.request, f"X-Total-Count {found}, the conversations the walk found",
                        f"X-Total-Count {walk.totals[0]}")
        elif walk.totals[0] < found:
            self.report("total-count", reply.request, f"X-Total-Count at least {found}, already walked",
                        f"X-Total-Count {walk.totals[0]}")

    def compare_page_sizes(self, main):
        """Pages of 5 and of 20 list the same conversations in the same order as pages of 10."""
        expected_ids = [_identity(item) for item in main.items]
        for size, pages in ((5, 2), (20, 2)):
            got, request = [], None
            for number in range(1, pages + 1):
                reply, page = self.list_page({"page": number, "page_size": size})
                request = reply.request if request is None else f"{request} and page={number}"
                got.extend(_identity(item) for item in page.items)
            wanted = expected_ids[: size * pages]
            if not main.complete and len(wanted) < size * pages:
                continue  # the walk stopped early: nothing to compare with
            if got != wanted:
                self.report("page-consistency", request,
                            f"the conversations of the page_size=10 walk, positions 1-{len(wanted)}, in that order",
                            _first_difference(wanted, got, self.shown))

    def _state(self, item) -> str:
        """An item's state: a documented one by name, anything else by its shape (or value)."""
        state = item.get("state") if isinstance(item, dict) else None
        return state if state in STATES else self.shown(state if isinstance(item, dict) else item)

    def check_states(self, main):
        """Each state's pages hold that state only, and the states add up to the whole."""
        walks = {}
        for state in STATES:
            walk = walks[state] = self.walk(100, state)
            wrong = [(position, item) for position, item in enumerate(walk.items, start=1)
                     if not isinstance(item, dict) or item.get("state") != state]
            if wrong:
                shown = ", ".join(f"{self.shown.identity(i, p)} is {self._state(i)}" for p, i in wrong[:3])
                self.report("state-filter", f"GET {self.path}?state={state} (all pages)",
                            f"only conversations in state {state}", f"{len(wrong)} others: {shown}")
            elif main.complete and walk.complete:
                wanted = [_identity(i) for i in main.items if isinstance(i, dict) and i.get("state") == state]
                got = [_identity(i) for i in walk.items]
                if got != wanted:
                    self.report("state-filter", f"GET {self.path}?state={state} (all pages)",
                                f"the {len(wanted)} conversations in state {state} of the unfiltered pages, in order",
                                _first_difference(wanted, got, self.shown))
        if main.complete and all(w.complete for w in walks.values()):
            counts = {state: len(w.items) for state, w in walks.items()}
            if sum(counts.values()) != len(main.items):
                self.report("state-totals", f"GET {self.path}?state=... (each state, all pages)",
                            f"{len(main.items)} conversations across the states, as unfiltered",
                            ", ".join(f"{s}: {n}" for s, n in counts.items()))
        headers = {state: w.totals[0] for state, w in walks.items() if w.totals}
        if main.totals and len(headers) == len(STATES) and sum(headers.values()) != main.totals[0]:
            self.report("state-totals", f"GET {self.path}?state=... (X-Total-Count of each state)",
                        f"X-Total-Count of the states adding up to the unfiltered {main.totals[0]}",
                        ", ".join(f"{s}: {n}" for s, n in headers.items()))

    def check_refusals(self):
        """Bad input is refused: 401 without the key, 4xx (the mock: 422) for bad parameters."""
        self.mismatches.extend(error_reply(self.client.get(self.path, with_key=False), 401, 401, self.shown))
        bad_path = CONVERSATIONS_PATH.replace("<chatbot_id>", "not-a-uuid")
        self.mismatches.extend(error_reply(self.client.get(bad_path), MOCK_REFUSAL, MOCK_REFUSAL, self.shown))
        for query in ({"page": 0}, {"page_size": 101}, {"state": "bogus"}):
            self.mismatches.extend(
                error_reply(self.client.get(self.path, query), MOCK_REFUSAL, MOCK_REFUSAL, self.shown))


def _identity(item):
    return item.get("id") if isinstance(item, dict) else repr(item)


def _first_difference(wanted, got, shown: Shown) -> str:
    for position, (a, b) in enumerate(zip(wanted, got), start=1):
        if a != b:
            if not shown.values:
                return f"position {position}: another conversation than the walk's"
            return f"position {position}: {b} where the walk has {a}"
    return f"{len(got)} conversations where the walk has {len(wanted)}"


def render(base_url, chatbot_id, mismatches, notes, requests, conversations, stream):
    """Print the report: each mismatch with its request, what was expected and what came back."""
    print(f"conversations-mock verify: {base_url} chatbot {chatbot_id}", file=stream)
    shown = Counter()
    for mismatch in mismatches:
        shown[mismatch.check] += 1
        if shown[mismatch.check] > SHOWN_PER_CHECK:
            continue
        print(f"\nMISMATCH [{mismatch.check}] {mismatch.request}", file=stream)
        print(f"  expected: {mismatch.expected}", file=stream)
        print(f"  got:      {mismatch.got}", file=stream)
    for check, count in shown.items():
        if count > SHOWN_PER_CHECK:
            print(f"\n... and {count - SHOWN_PER_CHECK} more [{check}] mismatches like these", file=stream)
    for note in notes:
        print(f"\nnote: {note}", file=stream)
    if mismatches:
        counts = ", ".join(f"{check} {count}" for check, count in shown.items())
        summary = f"{len(mismatches)} mismatches ({counts})"
    else:
        summary = "no mismatches"
    status = "FAIL" if mismatches else "OK"
    print(f"\n{status}: {summary} in {requests} requests, {conversations} conversations checked", file=stream)


def _arguments(args):
    parts = urlsplit(args.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(f"--base-url {args.base_url!r} is not an http(s) URL like http://127.0.0.1:8000 or https://host/v1.")
    if not KEY_PATTERN.fullmatch(args.api_key):
        # The key itself is never echoed: it is a secret, and the message must be safe to paste.
        if not args.api_key.strip():
            problem = "is empty"
        elif args.api_key != args.api_key.strip():
            problem = "starts or ends with white space"
        else:
            problem = "has characters a header cannot carry"
        raise UsageError(
            f"--api-key {problem}; give the key the server accepts, sent as {API_KEY_HEADER}: printable "
            "ASCII characters, no spaces at either end (the mock's are 48 lowercase hex digits)."
        )
    try:
        chatbot_id = canonical_chatbot_id(args.chatbot)  # as the mock's path takes it
    except ValidationError:
        raise UsageError(f"--chatbot {args.chatbot!r} is not a UUID.") from None
    if not args.max_pages.isdigit() or not 1 <= int(args.max_pages) <= 1000:
        raise UsageError(f"--max-pages {args.max_pages!r}: give a whole number from 1 to 1000.")
    try:
        timeout = float(args.timeout)
    except ValueError:
        timeout = -1.0
    if not 0.1 <= timeout <= 300:
        raise UsageError(f"--timeout {args.timeout!r}: give seconds from 0.1 to 300.")
    return chatbot_id, int(args.max_pages), timeout


def register(subparsers):
    """Add the verify subcommand."""
    parser = subparsers.add_parser(
        "verify",
        help="check a deployment of the API against the rules the mock follows",
        description="Call a server implementing Get Conversations and report every answer that "
        "breaks the API document's or the mock's rules. Exit 0: none; 1: mismatches; 2: unreachable.",
    )
    parser.add_argument("--base-url", required=True, metavar="URL", help="e.g. https://api.example.test/v1")
    parser.add_argument("--api-key", required=True, metavar="KEY", help=f"sent as {API_KEY_HEADER}")
    parser.add_argument("--chatbot", required=True, metavar="ID", help="a chatbot the key may read")
    parser.add_argument("--max-pages", default=str(DEFAULT_MAX_PAGES), metavar="N",
                        help=f"pages walked per listing at most (default {DEFAULT_MAX_PAGES})")
    parser.add_argument("--timeout", default=str(DEFAULT_TIMEOUT), metavar="SECONDS",
                        help=f"per request (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--show-values", action="store_true",
                        help="print the values a mismatch found, not only their shape (type, length, kinds "
                        "of characters): a real deployment's are people's data; keep such a report out of CI logs")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Verify, print the report; 0 clean, 1 mismatches, 2 unreachable or bad arguments."""
    try:
        chatbot_id, max_pages, timeout = _arguments(args)
    except UsageError as error:
        print(f"conversations-mock verify: {error}", file=sys.stderr)
        return 2
    client = Client(args.base_url, args.api_key, timeout)
    verifier = Verifier(client, chatbot_id, max_pages, Shown(values=args.show_values))
    try:
        mismatches = verifier.run()
    except Unreachable as error:
        print(f"conversations-mock verify: cannot reach {args.base_url}: {error}", file=sys.stderr)
        return 2
    render(args.base_url, chatbot_id, mismatches, verifier.notes, client.count, len(verifier.checked), sys.stdout)
    return 1 if mismatches else 0
