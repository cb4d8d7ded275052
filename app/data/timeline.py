"""A generated history at one instant: which arrivals exist, the state of each, and where a page's fall.

Every count is arithmetic over whole blocks (data/states.py): the arrivals of a kind that have
ended at the instant are its first ones, so between the few arrival numbers where some kind
stops having ended, the lives in each state are fixed, and a state's j-th conversation is found
by divmod within that stretch.
"""

from conversations_mock.data.arrivals import Arrivals
from conversations_mock.data.states import ENDING_ORDER, LifeLayout


class Snapshot:
    """A history at instant `at` (microseconds since the epoch): arrivals 0..arrived-1, each in its state."""

    def __init__(self, lives: LifeLayout, arrivals: Arrivals, at: int):
        self.at = at
        self.arrived = arrivals.arrived(at)
        self._arrivals = arrivals
        self._lives = lives
        self._ended = {}
        self._spans = {}

    def ended(self, kind: str) -> int:
        """How many arrivals of `kind`'s lasting have ended, counted on first use (a hash each): a page of
        every state tells each conversation's end from its own start, so it never pays them."""
        ended = self._ended.get(kind)
        if ended is None:
            # Arrival n of a kind lasting d has ended at `at` exactly when it arrived by at - d.
            ended = self._ended[kind] = self._arrivals.arrived(self.at - self._lives.durations[kind])
        return ended

    def state(self, n: int, life) -> str:
        """The state of arrival n (below `arrived`), whose life is `life`."""
        if n < self.ended(life.kind):
            return life.final
        return "in_progress"

    def spans(self, state: str) -> list:
        """[(first, end, lives, before, inside)]: the stretches of arrivals, oldest first, where exactly
        `lives` are in `state`; `before` arrivals with those lives precede the stretch, `inside` are in it."""
        spans = self._spans.get(state)
        if spans is None:
            # Counted once per snapshot and state: total() and every page of the state read them.
            spans = self._spans[state] = []
            layout = self._lives
            # Kinds stop having ended in ENDING_ORDER: stretch i, from ended(ENDING_ORDER[i-1]) (0 for
            # the first) to ended(ENDING_ORDER[i]) (`arrived` for the last), is where ENDING_ORDER[i:] have;
            # by_stretch joins neighbours with the same lives in `state`, so only the cuts between differ.
            first = 0
            for i, lives in layout.composition.by_stretch.get(state, ()):
                end = self.ended(ENDING_ORDER[i]) if i < len(ENDING_ORDER) else self.arrived
                if lives and first < end:
                    before = layout.count(lives, first)
                    spans.append((first, end, lives, before, layout.count(lives, end) - before))
                first = end
        return spans

    def total(self, state: str | None = None) -> int:
        """How many conversations exist at the instant, or how many are in `state`."""
        if state is None:
            return self.arrived
        return sum(span[4] for span in self.spans(state))

    def positions(self, state: str | None, offset: int, limit: int) -> list:
        """Arrival numbers of the conversations offset..offset+limit-1 (newest first) of `state` (None: all)."""
        total = self.total(state)
        high = total - offset  # ranks counted from the oldest: the page holds ranks low..high-1
        low = max(0, high - limit)
        if high <= low:
            return []
        if state is None:
            return list(range(high - 1, low - 1, -1))
        found, rank, wanted = [], low, high - low
        for first, end, lives, before, inside in self.spans(state):
            if rank >= inside:
                rank -= inside
                continue
            found += self._lives.find(lives, before + rank, end, wanted - len(found))
            rank = 0
            if len(found) == wanted:
                break
        return found[::-1]
