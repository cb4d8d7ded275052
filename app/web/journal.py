"""The journal's entries: what is kept of each request (masked as it is written), and how it is shown.

Masked by meaning, as the log is (web/safety.py's mask_secrets): the credential headers, any header
whose name says token, secret, session, password or auth, any query parameter so named, and any
value shaped like a bearer token or a JWT.

A masked header's value is kept only as a keyed digest (`Entries`), which GET /__mock/requests
never shows: a test in a server's process checks what its client sent with `Entries.sent`.
"""

import hmac
import operator
import os
import re
import secrets
import time
from functools import partial
from urllib.parse import parse_qsl, quote

from conversations_mock.web.answers import DECISION_KEY
from conversations_mock.web.faults import FAULT_KEY
from conversations_mock.web.problems import PROBLEM_KEY
from conversations_mock.web.safety import MASK, REQUEST_ID_KEY, SAFE_PATH, TARGET_KEY, mask_secrets

# Headers whose whole value is a credential: the journal shows the scheme at most.
# app.extensions key of the server's Entries.
JOURNAL = "journal"
_SECRET_HEADERS = {"HTTP_X_API_KEY", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE"}
# Headers whose name says their value is a credential (X-Auth-Token, X-Session-Id, X-Client-Secret,
# X-Password, X-Api-Key-2): the journal shows *** alone.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|SESSION|PASSW|AUTH|API_?KEY")


class Entries:
    """Makes a server's journal entries: secrets masked, and each masked header's value digested with a key.

    The key is random and never served or logged. With the embedded store it is made with the server
    (create_app: before gunicorn forks, so every worker shares it) and held in its memory. With a
    Redis store it is kept in Redis, beside the journal it protects (Store.digest_key): the first
    server to start makes it, every server on that Redis digests with it, so the verdicts judge a
    client's requests whichever server answered them, and `sent` checks an entry any of them
    journalled. Whoever can read that Redis can read the journal anyway; the key only keeps the
    values out of what is served. A test in a server's process checks, with `sent`, which value its
    client sent (the pytest plugin's `JournalEntry.sent`).

    :param key: the digests' key when the store keeps none (default: 32 random bytes)
    :param store: the store whose key to follow, if it keeps one; read at start and whenever it
        changes (a Redis that came back empty has a new one), never per request
    """

    def __init__(self, key: bytes | None = None, store=None):
        self._use(key or secrets.token_bytes(32))
        if store is not None:
            shared = store.digest_key(self._use)
            if shared is not None:
                self._use(shared)

    def _use(self, key: bytes) -> None:
        """Digest with `key` from now on; the memo of digests made with another starts over."""
        # Each entry names its key by an id, so an entry digested with another key (before the store's
        # changed, or by a server on another store) is told apart from one whose value simply differs.
        key_id = hmac.digest(key, b"conversations-mock journal key", "sha256")[:8].hex()
        # One tuple, swapped whole (the store's listener may swap it while requests run): an entry's
        # digests are always made with the key its id names.
        self._keyed: tuple[bytes, str, dict[tuple, tuple[dict, dict]]] = (key, key_id, {})

    @property
    def key_id(self) -> str:
        """The id the entries made now give their digests' key."""
        return self._keyed[1]

    def entry(self, namespace, environ, status, retry_after=None, received=None) -> dict:
        """What the journal keeps of a request, API keys masked as in the log (`shown_entry` formats it).

        Kept raw where that is safe (times, path, the masked query string): this runs for every request,
        and formatting waits until someone reads the journal (docs/benchmarks.md). `digests` holds the
        key's id and a digest of each masked header's value by the header's name (None when none was).

        :param retry_after: the answer's Retry-After in seconds, if it sent one (the verdicts read it)
        :param received: when the request reached the app (time.time()); default: now, as `time`
        """
        query = environ.get("QUERY_STRING", "")
        path = environ.get("PATH_INFO", "")
        target = environ.get(TARGET_KEY, "")
        keyed = self._keyed
        headers, digests = self._headers(environ, keyed)
        now = time.time()
        return {
            "time": now,
            "received": now if received is None else received,
            "method": environ.get("REQUEST_METHOD", ""),
            # The target, masked for the access log, tells whether the path holds a secret (a key in
            # place of a chatbot id): masking every path anew would cost about 1.3 us a request.
            "path": mask_secrets(path) if MASK in target else path,
            "query": query and mask_secrets(query),  # most requests have none: "" needs no masking
            "target": target,
            "status": status,
            "retry_after": retry_after,
            "request_id": environ.get(REQUEST_ID_KEY, ""),
            "fault": environ.get(FAULT_KEY),
            "problem": environ.get(PROBLEM_KEY),  # an error's detail (web/problems.py), else None
            "applied": _applied(environ.get(DECISION_KEY)),
            "namespace": namespace,
            "worker": _PID[0],
            "headers": headers,
            "digests": {"key": keyed[1], "headers": digests} if digests else None,
        }

    def headers(self, environ) -> tuple[dict, dict]:
        """The request's headers by name, secrets masked, and the digests of the masked ones' values.

        New dicts, made once per distinct set of headers: clients send the same headers again and
        again, and walking the environ, naming, masking and digesting them cost more than the rest
        of the entry. The environ's keys (in order) say which are headers, and their values find
        the dicts made for the same ones before.
        """
        return self._headers(environ, self._keyed)

    def _headers(self, environ, keyed) -> tuple[dict, dict]:
        key, _, masked = keyed
        keys = tuple(environ)
        shape = _SHAPES.get(keys)
        if shape is None:
            shape = _Shape(keys)
            if len(_SHAPES) >= MEMO_SIZE:
                _SHAPES.clear()
            _SHAPES[keys] = shape
        values = shape.values(environ)
        made = masked.get((shape, values))
        if made is None:
            made = shape.mask(values, partial(_digest, key))
            # Long values (up to ~800 kB of headers a request) are masked anew: the memo stays small.
            if sum(map(len, values)) <= MEMO_VALUE_BYTES:
                if len(masked) >= MEMO_SIZE:
                    masked.clear()
                masked[shape, values] = made
        # The memo's own are never handed out, so nothing can change them.
        return made[0].copy(), made[1].copy()

    def digest(self, value: str) -> str:
        """The keyed digest of a header's value as WSGI gives it: HMAC-SHA256's first 128 bits, in hex.

        128 bits tell a value from another as surely as 256, in half the journal's bytes.
        """
        return _digest(self._keyed[0], value)

    def sent(self, entry: dict, header: str, value: str) -> bool:
        """Whether the request `entry` keeps (as the store keeps it) carried `header` with exactly `value`.

        A masked header is checked against its digest, any other against the value shown; the
        header's name in any case. Every server on one Redis store digests with the same key, so an
        entry any of them journalled can be checked. Raises ValueError for a masked header digested
        with another key: journalled before the store came back empty (it lost the key with the
        journal, and a new one was made), or by a server on another store.
        """
        wanted = header.lower()
        shown = next((shown for name, shown in entry["headers"].items() if name.lower() == wanted), None)
        if shown is None:
            return False
        key, key_id, _ = self._keyed
        digests = entry.get("digests") or {"key": key_id, "headers": {}}
        digest = next((digest for name, digest in digests["headers"].items() if name.lower() == wanted), None)
        if digest is None:  # not masked: shown as it was sent
            return shown == value
        if digests["key"] != key_id:
            raise ValueError(
                f"{header} was masked with a digest key this server no longer shares: the store came back "
                "empty since the request was journalled (a new key was made), or a server on another store "
                "journalled it; its masked values cannot be checked."
            )
        return hmac.compare_digest(digest, _digest(key, value))


class _Shape:
    """One set of environ keys: which are headers, their shown names, and how to pick their values."""

    def __init__(self, keys):
        self.headers = [
            (name, _HEADER_NAMES.get(name) or _header_name(name.removeprefix("HTTP_")))
            for name in keys
            if name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH")
        ]
        self.secret_names = frozenset(
            name for name, _ in self.headers if name not in _SECRET_HEADERS and _SECRET_NAME.search(name[5:])
        )
        names = [name for name, _ in self.headers]
        # A tuple of the values whatever their number (itemgetter of one key gives the value alone).
        self.values = (lambda environ: ()) if not names else operator.itemgetter(*names, *names[:1])

    def mask(self, values, digest) -> tuple[dict, dict]:
        """The headers by shown name, masked, and digest(value) of each whose value masking changed."""
        headers, digests = {}, {}
        for (name, shown), value in zip(self.headers, values):
            if name in _SECRET_HEADERS:
                scheme = value.split(" ", 1)[0] if " " in value and name != "HTTP_X_API_KEY" else ""
                headers[shown] = f"{scheme} {MASK}".lstrip()
            elif name in self.secret_names:
                headers[shown] = MASK
            elif value or name.startswith("HTTP_"):  # an empty Content-Type or -Length is no header
                headers[shown] = mask_secrets(value)
            else:
                continue
            if headers[shown] != value:
                digests[shown] = digest(value)
            else:  # a name seen twice (Content-Type, HTTP_CONTENT_TYPE): the last one's value is shown
                digests.pop(shown, None)
        return headers, digests


# Distinct sets of environ keys, and of header values, remembered at most (the memos start over when full).
MEMO_SIZE = 256
# Header values longer than this in all are not remembered.
MEMO_VALUE_BYTES = 4096
_SHAPES: dict[tuple, _Shape] = {}


def _digest(key: bytes, value: str) -> str:
    return hmac.digest(key, value.encode("utf-8", "surrogatepass"), "sha256")[:16].hex()


def journal_of(store, namespace: str, path: str | None = None, limit: int | None = None) -> list[dict]:
    """A namespace's entries as the store keeps them, newest first: GET /__mock/requests's and the plugin's.

    :param path: only requests to this API path (UTF-8 text, without a namespace prefix)
    :param limit: at most this many (default: all the journal keeps)
    :raise StoreUnavailable: when the store cannot be read
    """
    # The journal keeps paths as WSGI gives them (bytes as latin-1), secrets masked; the caller gives text.
    path = None if path is None else mask_secrets(path.encode("utf-8").decode("latin-1"))
    return store.journal(namespace, path, limit)


def shown_entry(kept: dict) -> dict:
    """A journal entry as GET /__mock/requests lists it (JournalEntrySchema): ISO 8601 time, query by name.

    The digests stay out: they serve only the servers' own processes (`Entries.sent`).
    """
    first_values = {}
    for key, value in parse_qsl(kept["query"], keep_blank_values=True):
        first_values.setdefault(key, value)
    # Entries journalled before faults, verdicts and the dashboard were have none of their fields.
    shown = {"fault": None, "retry_after": None, "received": kept["time"], "problem": None, "applied": None,
             **kept}
    shown.pop("digests", None)
    return {
        **shown,
        "time": iso_time(kept["time"]),
        "received": iso_time(shown["received"]),
        "path": quote(kept["path"].encode("latin-1", "replace"), safe=SAFE_PATH),
        "query": first_values,
    }


def _applied(decision) -> str | None:
    """The preferences a request's answer honoured, as its Preference-Applied says them, or None."""
    # A Decision, a Problem (a refusal) or None (no decider ran).
    applied = getattr(decision, "applied", None)
    return ", ".join(applied) if applied else None


def iso_time(moment: float) -> str:
    """A time.time() value as UTC ISO 8601 to the millisecond, e.g. 2026-12-06T02:07:00.123Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{int(moment % 1 * 1000):03d}Z"


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
