"""Draws per attempt: the k-th identical request takes the k-th draw of a sequence from the server's seed.

Identical requests share the method, path, query, API key and namespace. The store counts their
attempts (Store.count: atomic across workers and servers), so a client that retries a request
draws anew, and a run that sends the same requests after a reset draws the same ones again. The
server-wide error rate and a fault rule's `rate` both draw so; each names its own `purpose`, and
a request is counted once however many draws it takes.

Usage, in a decider::

    if picked(context.store, context.environ, context.settings["seed"], rate, purpose="rule 0"):
        ...
"""

import hashlib

from conversations_mock.web.namespaces import namespace_of

# environ key of the request's attempt number: counted once per request, whoever draws first.
ATTEMPT_KEY = "mock.attempt"


def identity(environ) -> str:
    """What makes two requests identical (method, path, query, API key and namespace), as a digest:
    the store's counters are named by it, never by the key in clear."""
    parts = (environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
             environ.get("HTTP_X_API_KEY", ""), namespace_of(environ))
    return hashlib.blake2b("\0".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def attempt(store, environ) -> int:
    """Which attempt of its identical requests this one is (1 for the first); may raise StoreUnavailable."""
    known = environ.get(ATTEMPT_KEY)
    if known is None:
        known = environ[ATTEMPT_KEY] = store.count(namespace_of(environ), "attempt:" + identity(environ))
    return known


def draw(seed: int, identity_text: str, attempt_number: int, purpose: str) -> float:
    """A number in [0, 1): the same for the same seed, request identity, attempt and purpose."""
    text = "\0".join((str(seed), purpose, str(attempt_number), identity_text))
    digest = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def picked(store, environ, seed: int, rate: float, purpose: str) -> bool:
    """Whether this attempt is among the `rate` share picked for `purpose` (rate 0 and 1 count nothing)."""
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    return draw(seed, identity(environ), attempt(store, environ), purpose) < rate
