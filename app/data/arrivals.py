"""When a generated chatbot's conversations arrive: a seeded rate with a daily rhythm, by arithmetic.

Time is weighed by the hour of the day (busy hours count more), and arrivals are spaced evenly
in weighed time: arrival n sits in its own slot, at a keyed point inside it. So the moment of
arrival n, and how many have arrived by any instant, come from a few multiplications and one
hash, whatever the instant and however long the history.
"""

from bisect import bisect_right
from functools import lru_cache, partial
from hashlib import blake2b

from conversations_mock.data.compiled import compiled
from conversations_mock.data.platforms import HOME_LOCALES, UTC_OFFSETS

HOUR_US = 3600 * 10**6
DAY_US = 24 * HOUR_US
# How busy an hour is by how many hours it lies from the chatbot's peak hour (UTC): a day and a night.
HOURLY_PROFILE = (10, 10, 9, 8, 7, 6, 5, 4, 3, 3, 2, 2, 2)


class Rhythm:
    """A day's hourly weights, and the 'busy time' they weigh: w[h] busy units per microsecond of hour h."""

    def __init__(self, peak: int):
        self.weights = tuple(HOURLY_PROFILE[min((hour - peak) % 24, (peak - hour) % 24)] for hour in range(24))
        starts = [0]
        for weight in self.weights:
            starts.append(starts[-1] + weight * HOUR_US)
        self.starts = tuple(starts[:24])  # busy units before each hour of a day
        self.day = starts[24]  # busy units of a whole day
        self.heaviest = max(self.weights)

    def busy(self, moment: int) -> int:
        """Busy units from the epoch to `moment` (microseconds since the epoch), the moment itself excluded."""
        day, rest = divmod(moment, DAY_US)
        hour, inside = divmod(rest, HOUR_US)
        return day * self.day + self.starts[hour] + self.weights[hour] * inside

    def moment(self, busy: int) -> int:
        """The latest moment whose busy() is at most `busy`: busy()'s inverse, rounded down."""
        day, rest = divmod(busy, self.day)
        hour = bisect_right(self.starts, rest) - 1
        return day * DAY_US + hour * HOUR_US + (rest - self.starts[hour]) // self.weights[hour]


@compiled
def arrival_moment(first: int, slot: int, spread: int, day: int, starts: tuple, weights: tuple, n: int,
                   draw: int) -> int:
    """When arrival n arrived, given its 32-bit draw: Rhythm(...).moment of its busy point, written out
    (tests/data/test_arrivals.py holds the two equal)."""
    whole, rest = divmod(first + n * slot + (draw * spread >> 32), day)
    hour = bisect_right(starts, rest) - 1
    return whole * DAY_US + hour * HOUR_US + (rest - starts[hour]) // weights[hour]


def peak_hour(timeline: bytes) -> int:
    """The UTC hour a chatbot is busiest: early to late afternoon where its users live.

    Its home is one of its platforms' locales (data/platforms.py), drawn as often as that platform's
    users write in it, so a LINE chatbot in Japan peaks in Tokyo's afternoon and a WhatsApp one in
    Brazil in Sao Paulo's.
    """
    home = HOME_LOCALES[int.from_bytes(timeline[1:3], "big") % len(HOME_LOCALES)]
    local = 13 + timeline[3] % 5  # 13:00 to 17:00 local time
    return (local - UTC_OFFSETS[home]) % 24


@lru_cache(maxsize=None)  # 24 peaks: a new chatbot reads its rhythm, not builds it (a fifth of its setup)
def daily_rhythm(peak: int) -> Rhythm:
    """The one Rhythm peaking at hour `peak`."""
    return Rhythm(peak)


class Arrivals:
    """The arrival schedule of `count` conversations ending at `anchor_us`, continuing at that rate after it.

    Exactly `count` conversations have arrived at `anchor_us`. Arrival n's point in its slot is
    `draw(n)` (32 bits), so the caller's per-conversation digest places it. The rate is `per_hour`
    conversations an hour on average over a day, or (None) `count` over 30 to 119 days, drawn by the key.
    """

    def __init__(self, key: bytes, count: int, anchor_us: int, draw, per_hour: int | None = None):
        timeline = blake2b(b"timeline", key=key, digest_size=8).digest()
        self.rhythm = rhythm = daily_rhythm(peak_hour(timeline))
        self.count = count
        self._draw = draw
        if per_hour:
            slot = rhythm.day // (24 * per_hour)  # a day's busy units shared by a day's arrivals
        else:
            days = 30 + timeline[0] % 90  # the span of the first `count` arrivals
            slot = days * rhythm.day // max(count, 1)
        # At least two of the busiest microseconds per slot keep arrival moments strictly increasing.
        self.slot = max(2 * rhythm.heaviest, slot)
        self._spread = self.slot - rhythm.heaviest
        # Arrival count-1 ends its slot at the anchor's last busy unit; arrival count starts after it.
        self.first = rhythm.busy(anchor_us + 1) - count * self.slot
        # moment(n, draw): when arrival n (0 the oldest) arrived, given its 32-bit draw. A partial, not a
        # method: every conversation of a page asks, and the C twin then takes the constants as they are.
        self.moment = partial(arrival_moment, self.first, self.slot, self._spread, rhythm.day, rhythm.starts,
                              rhythm.weights)

    def arrived(self, moment: int) -> int:
        """How many conversations have arrived at or before `moment`."""
        if not self.count:
            return 0
        # Arrival n is at or before `moment` exactly when its busy point is below busy(moment + 1).
        reach = self.rhythm.busy(moment + 1) - 1 - self.first
        if reach < 0:
            return 0
        whole, inside = divmod(reach, self.slot)
        return whole + ((self._draw(whole) * self._spread >> 32) <= inside)
