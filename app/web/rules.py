"""A namespace's fault rules (PUT /__mock/faults) as a decider: the third in web/answers.py's order.

For an admitted API request the rules are tried in order; the first that applies answers:
a rule applies when its `match` holds for the request's chatbot, state filter and page, its
`rate` picks this attempt (web/draws.py), and, for a rule given `times`, the store lets it take
one of what is left (Store.spend: exact across workers and servers). A rule spent, not picked
or not matching leaves the request to the next. A request a limit or its Prefer header has
already answered takes nothing from any rule.

Each worker keeps the rules it read per store generation (a PUT, DELETE or reset moves it), so a
namespace without rules costs one generation read per request, and one without `times` or
`rate` no store round trip at all.
"""

from dataclasses import dataclass

import orjson

from conversations_mock.data.cache import PerGeneration
from conversations_mock.schemas.control import CONTROL_PREFIX
from conversations_mock.schemas.preferences import RETRY_AFTER_CODES
from conversations_mock.web.answers import Decider
from conversations_mock.web.draws import picked
from conversations_mock.web.namespaces import namespace_of
from conversations_mock.web.problems import RETRY_AFTER_SECONDS

# app.extensions key of the app's FaultRules.
RULES = "rules"
FAULTS_PATH = CONTROL_PREFIX + "/faults"


@dataclass(frozen=True)
class Rule:
    """One rule as loaded by schemas/faults.py, with its place in its set."""

    index: int
    match: dict
    times: int | None
    rate: float | None
    answer: dict

    def matches(self, values: dict, query) -> bool:
        """Whether every field of the match equals the request's (chatbot_id, state, page)."""
        match = self.match
        return (("chatbot_id" not in match or match["chatbot_id"] == values.get("chatbot_id"))
                and ("state" not in match or match["state"] == query.state)
                and ("page" not in match or match["page"] == query.page))


class RuleSet:
    """A namespace's rules of one version, and which of them this worker has seen spent."""

    def __init__(self, version: str, rules: list[Rule]):
        self.version = version
        self.rules = rules
        # What is left only goes down within a version: a rule once refused is never asked again.
        self.spent = set()


class FaultRules:
    """The fault rules of each namespace as this worker last read them from `store`; its Decider.

    :param store: the shared store (app/store), holding each namespace's rules and counts
    :param seed: the server's seed, which a rule's rate draws from
    """

    def __init__(self, store, seed: int):
        self.store = store
        self.seed = seed
        # namespace -> RuleSet, or False when none are set (None is "not read yet")
        self._rules = PerGeneration(store, lambda namespace: _rule_set(store.faults(namespace)) or False)
        self.decider = Decider("rules", self.decide, wanted=self.wanted)

    def rules(self, namespace: str) -> RuleSet | None:
        """The namespace's rules as this worker holds them (None: none are set). May raise StoreUnavailable."""
        return self._rules.get(namespace) or None

    def wanted(self, environ) -> bool:
        """Whether the request's namespace has rules: one generation read, and a dict look-up."""
        return self.rules(namespace_of(environ)) is not None

    def decide(self, context, decision) -> None:
        """Fill the decision from the first rule that applies to the request, if any."""
        if decision.settled:
            return  # a limit or the request's Prefer answers it: no rule spends one on it
        namespace = context.namespace
        rule_set = self.rules(namespace)
        if rule_set is None:
            return
        for rule in rule_set.rules:
            if rule.index in rule_set.spent or not rule.matches(context.values, context.query):
                continue
            if rule.rate is not None and not picked(
                self.store, context.environ, self.seed, rule.rate, f"rule {rule.index}"
            ):
                continue
            if rule.times is not None and not self.store.spend(namespace, rule_set.version, rule.index):
                rule_set.spent.add(rule.index)
                continue
            _apply(rule, namespace, decision)
            return


def _rule_set(stored) -> RuleSet | None:
    """The stored rules (Store.faults) as a RuleSet; None when none are set."""
    if stored is None:
        return None
    loaded = orjson.loads(stored.rules)
    if not loaded:
        return None
    return RuleSet(stored.version, [
        Rule(index, rule.get("match", {}), rule.get("times"), rule.get("rate"), rule["answer"])
        for index, rule in enumerate(loaded)
    ])


def _apply(rule: Rule, namespace: str, decision) -> None:
    """Give the decision the rule's answer: a code (with its delay and Retry-After), a fault, a delay, a dribble."""
    answer = rule.answer
    if "delay" in answer and decision.delay_ms is None:
        decision.delay_ms = answer["delay"]
    if "dribble" in answer and decision.dribble_ms is None:
        decision.dribble_ms = answer["dribble"]
    if "fault" in answer:
        decision.settle("rule", fault=answer["fault"])
    elif "code" in answer:
        code = answer["code"]
        decision.settle("rule", code=code, retry_after=answer.get("retry_after"), detail=(
            None if code == 200 else
            f"Simulated {code}: fault rule [{rule.index}] of namespace {namespace!r} ({FAULTS_PATH}) "
            f"answered this request." + _retry_hint(code, answer.get("retry_after"))
        ))


def _retry_hint(code: int, retry_after: int | None) -> str:
    if code not in RETRY_AFTER_CODES:
        return ""
    seconds = RETRY_AFTER_SECONDS if retry_after is None else retry_after
    return f" Retry after {seconds} second{'' if seconds == 1 else 's'}."
