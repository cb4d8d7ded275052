"""What answers an API request, decided in one place that the view and the fast path both run after admission.

Once the key, path and query are admitted, `Answers.decide` asks each decider in a fixed order
whether something else than the ordinary page answers the request, and returns the Decision:

    0. loss     (here): a namespace whose data the shared store lost answers 503 naming it (Store.lost)
    1. limits   (web/limits.py): the rate limit, a gateway in front of the backend
       then the route's own checks (PageRoute.deciders), as the view would make them
    2. prefer   (web/scenarios.py): the request's own `Prefer` header (code, delay, fault, dribble, ...)
    3. rules    (web/rules.py): the namespace's fault rules (PUT /__mock/faults)
    4. chaos    (web/scenarios.py): the server's latency and error rate, drawn per attempt

A decider is a callable `(context, decision) -> None` that fills the decision in place: for each
field the first decider to set it wins (`decision.settle` sets the answer, code or fault, only
if none is set yet); `headers` and `applied` accumulate. A decider module registers by giving
create_app its Deciders (`answers_for(settings, store, limits=..., rules=...)`), each with a cheap
`wanted(environ)` check (None: it runs for every request): when no decider wants a request
(nothing configured, no Prefer header), `decide` costs one loop over those checks and returns
None, and the page is answered as usual. A Decision that changes more than a delay and headers
is answered by the view (web/scenarios.py `answer`), the fast path handing the request over.

Usage, as the view and the fast path call it::

    decision = answers.decide(environ, route, values, query)   # None: the ordinary page
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from conversations_mock.schemas import PageQuery
from conversations_mock.web.namespaces import namespace_of
from conversations_mock.web.pages import PageRoute
from conversations_mock.web.problems import Problem

# app.extensions key of each app's Answers (create_app makes it).
ANSWERS = "answers"
# environ key of a request's Decision: decided once per request, whichever path asks first.
DECISION_KEY = "mock.decision"
# The deciders in front of the route's own checks.
GATEWAY = ("loss", "limits")


@dataclass
class Context:
    """What a decider may look at: the request, the server's settings and store, and what admission loaded.

    :param environ: the WSGI environ (namespace, API key, Prefer header, ...)
    :param settings: the server's settings
    :param store: the shared store (atomic counters across workers and servers)
    :param route: the admitted PageRoute
    :param values: its path values, e.g. {"chatbot_id": "bot-1"}
    :param query: its PageQuery (state, page, page_size)
    """

    environ: dict
    settings: dict
    store: object
    route: PageRoute
    values: dict
    query: PageQuery

    @property
    def namespace(self) -> str:
        """The request's namespace."""
        return namespace_of(self.environ)

    @property
    def api_key(self) -> str | None:
        """The request's X-API-Key (admitted)."""
        return self.environ.get("HTTP_X_API_KEY")

    @cached_property
    def preferences(self) -> dict:
        """The request's Prefer header, loaded; raises Problem(422) naming each malformed preference."""
        from conversations_mock.web.scenarios import read_preferences  # scenarios reads Prefer for the view too

        prefer = self.environ.get("HTTP_PREFER")
        return read_preferences(prefer) if prefer else {}


@dataclass
class Decision:
    """What answers a request instead of (or around) its ordinary page.

    :param code: the status to answer with (a problem+json body unless 200); None: the page's 200
    :param retry_after: seconds for the Retry-After of a 429 or 503 (None: the default, 1)
    :param delay_ms: milliseconds to wait before answering (None: no wait)
    :param dribble_ms: the page's body spread over this many milliseconds (None: sent at once)
    :param fault: a transport fault (web/faults.py FAULTS) instead of any answer
    :param detail: the problem's detail for `code` (None: the simulated status's own wording)
    :param headers: (name, value) pairs added to whatever answers (e.g. RateLimit fields)
    :param source: which decider settled code or fault: "rate-limit", "prefer", "rule", "error-rate"
    :param applied: the honoured preferences, for Preference-Applied
    :param preferences: the request's Prefer header, loaded (example, seed and clock pick the page)
    """

    code: int | None = None
    retry_after: int | None = None
    delay_ms: int | None = None
    dribble_ms: int | None = None
    fault: str | None = None
    detail: str | None = None
    headers: list = field(default_factory=list)
    source: str | None = None
    applied: list = field(default_factory=list)
    preferences: dict = field(default_factory=dict)

    @property
    def settled(self) -> bool:
        """Whether a decider has chosen the answer (a code, even 200, or a fault): later ones leave it."""
        return self.code is not None or self.fault is not None

    @property
    def replaces_page(self) -> bool:
        """Whether something else than the ordinary 200 page is sent (an error status or a fault)."""
        return self.fault is not None or self.code not in (None, 200)

    @property
    def plain(self) -> bool:
        """Whether the ordinary page is sent, at most late and with extra headers (the fast path may send it)."""
        return not (self.replaces_page or self.dribble_ms or self.applied)

    def settle(self, source: str, *, code: int | None = None, fault: str | None = None,
               retry_after: int | None = None, detail: str | None = None) -> bool:
        """Choose the answer (`code` or `fault`) unless an earlier decider has; whether this one did."""
        if self.settled:
            return False
        self.code, self.fault, self.source, self.detail = code, fault, source, detail
        if self.retry_after is None:
            self.retry_after = retry_after
        return True


@dataclass(frozen=True)
class Decider:
    """One decider as registered: its name, its function, and a cheap check of whether it may act.

    :param name: "limits", "prefer", "rules" or "chaos" (the order above)
    :param decide: (context, decision) -> None, filling the decision in place; may raise Problem
    :param wanted: environ -> whether `decide` may change anything for this request; None: every request
    """

    name: str
    decide: Callable
    wanted: Callable | None = None


class Answers:
    """One app's deciders, in order, and `decide`, which the view and the fast path both call.

    :param deciders: the Deciders in the order they run (answers_for builds them)
    :param settings: the server's settings, given to each Context
    :param store: the shared store, given to each Context
    """

    def __init__(self, deciders, settings, store):
        self.deciders = tuple(deciders)
        self.settings = settings
        self.store = store
        self._plans = {}  # id(route) -> (route, its deciders in order, always?, cheap checks)

    def plan(self, route: PageRoute) -> tuple:
        """(route, deciders, always, checks) for `route`: its own deciders go after the limits, before Prefer.

        Precomputed once per route, so that a request nothing applies to costs one loop over cheap checks.
        """
        gateway = 0
        while gateway < len(self.deciders) and self.deciders[gateway].name in GATEWAY:
            gateway += 1
        deciders = (*self.deciders[:gateway], *route.deciders, *self.deciders[gateway:])
        always = any(decider.wanted is None for decider in deciders)
        checks = tuple(decider.wanted for decider in deciders if decider.wanted is not None)
        plan = self._plans[id(route)] = (route, deciders, always, checks)
        return plan

    def decide(self, environ, route: PageRoute, values: dict, query: PageQuery) -> Decision | None:
        """The request's Decision, or None when its ordinary page answers it as usual.

        Decided once per request (kept in the environ), so the fast path may hand the request to
        the view, which gets the same Decision. Raises Problem when a decider refuses the request
        (e.g. a malformed Prefer header: 422).
        """
        known = environ.get(DECISION_KEY)
        if known is not None:
            if isinstance(known, Exception):
                raise known  # a refusal is decided once too: a decider's counters count a request once
            return known
        plan = self._plans.get(id(route))
        _, deciders, always, checks = plan if plan is not None else self.plan(route)
        if not always:
            for wanted in checks:
                if wanted(environ):
                    break
            else:
                return None
        context = Context(environ, self.settings, self.store, route, values, query)
        decision = Decision()
        try:
            for decider in deciders:
                if decider.wanted is None or decider.wanted(environ):
                    decider.decide(context, decision)
        except Problem as refusal:
            # What the deciders before it added (a rate limit's fields) goes on the refusal too: the
            # request was counted, so its answer says so.
            refusal.headers = {**dict(decision.headers), **refusal.headers}
            environ[DECISION_KEY] = refusal
            raise
        environ[DECISION_KEY] = decision
        return decision


def loss_decider(store) -> Decider:
    """The first decider: a namespace whose data the store lost is refused 503 naming the loss (Store.lost).

    Its check is one dictionary lookup while nothing is lost, the answer never generated data in
    place of what a test set; it holds until the namespace is reset or has set again all it lost.
    """

    def wanted(environ):
        return store.lost(namespace_of(environ)) is not None

    def decide(context, decision):
        loss = store.lost(context.namespace)
        if loss is not None:
            raise Problem(503, loss.detail)

    return Decider("loss", decide, wanted=wanted)


def answers_for(settings, store, limits=(), rules=()) -> Answers:
    """The app's Answers: its deciders in their order, each registered only when it may act.

    :param limits: the rate limit's Deciders (web/limits.py)
    :param rules: the fault rules' Deciders (web/rules.py)
    """
    from conversations_mock.web import scenarios  # the Prefer and chaos deciders live with their parsing

    # Only a shared store can come back empty (Store.can_lose): the embedded one costs nothing here.
    losses = [loss_decider(store)] if getattr(store, "can_lose", False) else []
    deciders = [*losses, *limits, scenarios.PREFER, *rules]
    if scenarios.chaos(settings):
        deciders.append(scenarios.CHAOS)
    return Answers(deciders, settings, store)
