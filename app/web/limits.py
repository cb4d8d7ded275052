"""The rate limit: a gateway in front of the API, counting each API key's requests per namespace.

`--rate-limit N/s|N/min|N/h` gives every key a budget in every namespace; `PUT /__mock/rate-limit`
gives one namespace its own (or none). The budget is a fixed window opened by the key's first
request and counted in the store (Store.take), so every worker and, with Redis, every server
counts the same requests, exactly. It is the first decider (web/answers.py): once the key, path
and query are admitted, every request of a limited key is counted, and every answer to it, a
200 or an error decided after the limit, carries its state:

    RateLimit-Policy: "default";q=100;w=60       (draft-ietf-httpapi-ratelimit-headers-11)
    RateLimit: "default";r=42;t=17
    X-RateLimit-Limit: 100
    X-RateLimit-Remaining: 42
    X-RateLimit-Reset: 17                         (seconds, like t; not an epoch time)

Past the budget the answer is 429 with `Retry-After`: the whole seconds left in the window,
rounded up, so a request sent after it always passes. Until the window ends every request of
the key is refused again; refused requests are counted (Remaining stays 0) but cost nothing
more: the window neither moves nor grows.
"""

import functools
import hashlib

import orjson
from flask import Response, current_app, request
from marshmallow import ValidationError

from conversations_mock.data.cache import PerGeneration
from conversations_mock.schemas.limits import OFF, Rate, RateLimitSchema, RateLimitStateSchema, load_rate
from conversations_mock.web import control
from conversations_mock.web.answers import Decider
from conversations_mock.web.namespaces import namespace_of
from conversations_mock.web.problems import Problem

# app.extensions key of the app's Limits.
LIMITS = "limits"
# The policy's name in RateLimit-Policy and RateLimit: one policy, whichever limit is in force.
POLICY = "default"
# The response headers a limited key's answers carry, in the order sent, as the OpenAPI document describes
# them (web/cors.py exposes them).
HEADERS = {
    "RateLimit-Policy": (
        'The key\'s budget (draft-ietf-httpapi-ratelimit-headers-11): quota q per window w seconds, '
        'e.g. "default";q=100;w=60.', '"default";q=100;w=60'),
    "RateLimit": ('What is left of it: r requests within the next t seconds, e.g. "default";r=42;t=17.',
                  '"default";r=42;t=17'),
    "X-RateLimit-Limit": ("Requests the key may send per window.", "100"),
    "X-RateLimit-Remaining": ("Requests left in the current window.", "42"),
    "X-RateLimit-Reset": ("Seconds until the current window ends (not an epoch time), rounded up.", "17"),
}
RULE = "/rate-limit"
_UNSET = (None,)  # what a namespace without its own limit holds in the cache, beside the server's rate
_body_schema = RateLimitSchema()
_state_schema = RateLimitStateSchema()


def rate_limit_headers(rate: Rate, used: int, left_ms: int) -> list[tuple[str, str]]:
    """The headers of an answer to a key that has sent `used` requests in a window ending in `left_ms`.

    The window's seconds left are rounded up (t, X-RateLimit-Reset and a 429's Retry-After agree):
    a client that waits them finds the next window open.
    """
    remaining = max(0, rate.requests - used)
    reset = seconds_left(left_ms)
    return [
        ("RateLimit-Policy", f'"{POLICY}";q={rate.requests};w={rate.seconds}'),
        ("RateLimit", f'"{POLICY}";r={remaining};t={reset}'),
        ("X-RateLimit-Limit", str(rate.requests)),
        ("X-RateLimit-Remaining", str(remaining)),
        ("X-RateLimit-Reset", str(reset)),
    ]


def seconds_left(left_ms: int) -> int:
    """Milliseconds left in a window as the whole seconds a client waits: rounded up, at least 1."""
    return max(1, -(-left_ms // 1000))


@functools.lru_cache(maxsize=1024)
def subject(api_key: str) -> str:
    """What the store counts a key's budget under: a digest, so no key is written into the store."""
    return hashlib.blake2b(api_key.encode(), digest_size=8).hexdigest()


class Limits:
    """The rate limit in force in each namespace, as this worker last read it, and the decider counting it.

    :param store: the shared store: namespaces' own limits and every key's budget
    :param server_rate: the --rate-limit setting (None: off)
    :param clock: the store's clock in ms, or None for the store's own (a test gives one)
    """

    def __init__(self, store, server_rate: Rate | None, clock=None):
        self.store = store
        self.server_rate = server_rate
        self.clock = clock
        self._own = PerGeneration(store, self._read_own)  # namespace -> (its own Rate or OFF,) or _UNSET
        self.decider = Decider("limits", self.decide, wanted=self.wanted)

    def own_rate(self, namespace: str):
        """The namespace's own rate limit: a Rate, OFF (none, whatever the server's), or None (the server's).

        Read from the store once per generation (a PUT or DELETE of any namespace's limit moves it);
        may raise StoreUnavailable.
        """
        return self._own.get(namespace)[0]

    def _read_own(self, namespace: str) -> tuple:
        stored = self.store.get_rate_limit(namespace)
        own = None if stored is None else OFF if stored == OFF else load_rate(stored)
        return _UNSET if own is None else (own,)

    def rate_for(self, namespace: str) -> Rate | None:
        """The rate limit in force in `namespace`, or None when its keys are not limited."""
        own = self.own_rate(namespace)
        if own is None:
            return self.server_rate
        return None if own == OFF else own

    def wanted(self, environ) -> bool:
        """Whether the request's namespace limits its keys (the decider runs only then)."""
        return self.rate_for(namespace_of(environ)) is not None

    def decide(self, context, decision):
        """Count the request against its key's budget; add the headers, and settle 429 past the budget."""
        namespace = context.namespace
        rate = self.rate_for(namespace)
        if rate is None:
            return
        now = None if self.clock is None else self.clock()
        used, left_ms = self.store.take(namespace, subject(context.api_key), rate.seconds * 1000, now)
        decision.headers.extend(rate_limit_headers(rate, used, left_ms))
        if used > rate.requests:
            wait = seconds_left(left_ms)
            decision.settle("rate-limit", code=429, retry_after=wait, detail=(
                f"Too many requests: this API key may send {rate} ({rate.requests} per {_window(rate)}) in "
                f"namespace {namespace!r}, set by {self._source(namespace)}; retry after {wait} second(s)."
            ))

    def _source(self, namespace):
        return "PUT /__mock/rate-limit" if self.own_rate(namespace) is not None else "--rate-limit"


def _window(rate: Rate) -> str:
    return {1: "second", 60: "minute", 3600: "hour"}[rate.seconds]


def limits_for(settings, store) -> Limits:
    """The app's Limits: the --rate-limit setting and the namespaces' own limits in `store`."""
    return Limits(store, settings["rate_limit"])


# -- the control API's resource: /__mock/rate-limit --------------------------------------------------


def _limits() -> Limits:
    return current_app.extensions[LIMITS]


@control.blueprint.get(RULE)
def get_rate_limit():
    """The rate limit in force in the request's namespace, and whether it is the namespace's own."""
    namespace = namespace_of(request.environ)
    limits = _limits()
    own = limits.own_rate(namespace)
    state = {"rate_limit": limits.rate_for(namespace), "source": "server" if own is None else "namespace"}
    return Response(orjson.dumps(_state_schema.dump(state)), mimetype="application/json")


@control.blueprint.put(RULE)
def set_rate_limit():
    """Give the request's namespace its own rate limit ({"rate_limit": "3/s"}), or none (null)."""
    body = request.get_data()
    if not body.strip():
        raise Problem(
            400, 'The body is empty; send {"rate_limit": "3/s"} (N/s, N/min or N/h) or {"rate_limit": null}.'
        )
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Problem(400, f"The body does not parse as JSON: {error}.") from None
    if not isinstance(document, dict):
        raise Problem(422, 'The body must be a JSON object: {"rate_limit": "3/s"} or {"rate_limit": null}.',
                      errors={"body": ["Must be a JSON object."]})
    try:
        rate = _body_schema.load(document)["rate_limit"]
    except ValidationError as error:
        raise Problem(422, "The rate limit is not valid; nothing was changed. See errors.",
                      errors=error.messages) from None
    _limits().store.put_rate_limit(namespace_of(request.environ), OFF if rate is None else str(rate))
    return "", 204


@control.blueprint.delete(RULE)
def forget_rate_limit():
    """Return the request's namespace to the server's --rate-limit (its keys' budgets start afresh)."""
    _limits().store.delete_rate_limit(namespace_of(request.environ))
    return "", 204
