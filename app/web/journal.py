"""The journal's entries: what is kept of each request (masked as it is written), and how it is shown."""

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
