"""The journal's entries: what is kept of each request (masked as it is written), and how it is shown."""

import operator
import os
import time
from urllib.parse import parse_qsl, quote

from conversations_mock.web.safety import MASK, REQUEST_ID_KEY, SAFE_PATH, TARGET_KEY, mask_secrets

# Headers whose whole value is a credential: the journal shows the scheme at most.
_SECRET_HEADERS = {"HTTP_X_API_KEY", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE"}


def journal_entry(namespace, environ, status) -> dict:
    """What the journal keeps of a request, API keys masked as in the log (`shown_entry` formats it).

    Kept raw where that is safe (time, path, the masked query string): this runs for every request,
    and formatting waits until someone reads the journal (docs/benchmarks.md).
    """
    query = environ.get("QUERY_STRING", "")
    return {
        "time": time.time(),
        "method": environ.get("REQUEST_METHOD", ""),
        "path": environ.get("PATH_INFO", ""),
        "query": query and mask_secrets(query),  # most requests have none: "" needs no masking
        "target": environ.get(TARGET_KEY, ""),
        "status": status,
        "request_id": environ.get(REQUEST_ID_KEY, ""),
        "namespace": namespace,
        "worker": _PID[0],
        "headers": masked_headers(environ),
    }


def masked_headers(environ) -> dict:
    """The request's headers by name, secrets masked: a new dict, made once per distinct set of headers.

    Clients send the same headers again and again; walking the environ, naming and masking them
    cost more than the rest of the entry. The environ's keys (in order) say which are headers, and
    their values find the masked dict made for the same ones before.
    """
    keys = tuple(environ)
    shape = _SHAPES.get(keys)
    if shape is None:
        shape = _Shape(keys)
        if len(_SHAPES) >= MEMO_SIZE:
            _SHAPES.clear()
        _SHAPES[keys] = shape
    values = shape.values(environ)
    masked = _MASKED.get((shape, values))
    if masked is None:
        masked = shape.mask(values)
        # Long values (up to ~800 kB of headers a request) are masked anew: the memo stays small.
        if sum(map(len, values)) <= MEMO_VALUE_BYTES:
            if len(_MASKED) >= MEMO_SIZE:
                _MASKED.clear()
            _MASKED[shape, values] = masked
    return masked.copy()  # the memo's own is never handed out, so nothing can change it


class _Shape:
    """One set of environ keys: which are headers, their shown names, and how to pick their values."""

    def __init__(self, keys):
        self.headers = [
            (name, _HEADER_NAMES.get(name) or _header_name(name.removeprefix("HTTP_")))
            for name in keys
            if name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH")
        ]
        names = [name for name, _ in self.headers]
        # A tuple of the values whatever their number (itemgetter of one key gives the value alone).
        self.values = (lambda environ: ()) if not names else operator.itemgetter(*names, *names[:1])

    def mask(self, values) -> dict:
        headers = {}
        for (name, shown), value in zip(self.headers, values):
            if name in _SECRET_HEADERS:
                scheme = value.split(" ", 1)[0] if " " in value and name != "HTTP_X_API_KEY" else ""
                headers[shown] = f"{scheme} {MASK}".lstrip()
            elif value or name.startswith("HTTP_"):  # an empty Content-Type or -Length is no header
                headers[shown] = mask_secrets(value)
        return headers


# Distinct sets of environ keys, and of header values, remembered at most (the memos start over when full).
MEMO_SIZE = 256
# Header values longer than this in all are not remembered.
MEMO_VALUE_BYTES = 4096
_SHAPES: dict[tuple, _Shape] = {}
_MASKED: dict[tuple, dict] = {}


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
