"""Arrivals: weighed time and its inverse, exactly `count` by the anchor, strictly in order, by arithmetic."""

from hashlib import blake2b

from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.data.arrivals import DAY_US, HOUR_US, HOURLY_PROFILE, Arrivals, Rhythm
from conversations_mock.data.generator import ANCHOR_US
from conversations_mock.data.platforms import ALL_LOCALES, HOME_LOCALES, UTC_OFFSETS

moments = st.integers(ANCHOR_US - 3650 * DAY_US, ANCHOR_US + 3650 * DAY_US)


def _draw(key):
    return lambda n: int.from_bytes(blake2b(n.to_bytes(8, "big"), key=key, digest_size=4).digest(), "big")


@given(st.integers(0, 23), moments)
def test_moment_inverts_busy(peak, moment):
    rhythm = Rhythm(peak)
    assert rhythm.moment(rhythm.busy(moment)) == moment
    assert rhythm.busy(moment + 1) - rhythm.busy(moment) == rhythm.weights[moment % DAY_US // HOUR_US]


@given(st.integers(0, 23))
def test_the_peak_hour_is_the_busiest_and_the_night_the_quietest(peak):
    weights = Rhythm(peak).weights
    assert weights[peak] == max(HOURLY_PROFILE) and weights[(peak + 12) % 24] == min(HOURLY_PROFILE)


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(0, 10**9), st.data())
def test_count_have_arrived_at_the_anchor_and_arrivals_are_strictly_ordered(key, count, data):
    draw = _draw(key)
    arrivals = Arrivals(key, count, ANCHOR_US, draw)
    assert arrivals.arrived(ANCHOR_US) == count
    if not count:  # a chatbot of no conversations gets none later either
        assert arrivals.arrived(ANCHOR_US + 3650 * DAY_US) == 0
        return
    n = data.draw(st.integers(0, count + 10**6), label="n")
    moment = arrivals.moment(n, draw(n))
    # Arrivals.moment is Rhythm.moment written out for speed: the two must agree on its busy point.
    busy_point = arrivals.first + n * arrivals.slot + (draw(n) * (arrivals.slot - arrivals.rhythm.heaviest) >> 32)
    assert moment == arrivals.rhythm.moment(busy_point)
    assert moment < arrivals.moment(n + 1, draw(n + 1))
    # Arrival n is counted from its own moment on, and not a microsecond before.
    assert arrivals.arrived(moment) == n + 1 and arrivals.arrived(moment - 1) == n


# (home locale, the UTC hours of its afternoon, 13:00 to 17:00 local): where a chatbot's peak may fall.
AFTERNOONS = {locale: {(hour - offset) % 24 for hour in range(13, 18)} for locale, offset in UTC_OFFSETS.items()}


def test_every_home_locale_has_its_offset():
    assert set(HOME_LOCALES) == set(UTC_OFFSETS) == set(ALL_LOCALES)


def test_a_chatbots_conversations_peak_in_its_home_afternoon():
    """Arrivals counted by UTC hour: the busiest hour is an afternoon hour of one of its locales."""
    from collections import Counter

    from conversations_mock.data.generator import GeneratedHistory
    from conversations_mock.data.messages import SHARED_POOLS

    possible = set().union(*AFTERNOONS.values())
    peaks = set()
    for number in range(12):
        history = GeneratedHistory(f"{number:08x}-0000-4000-8000-{number:012x}", 7, 4000, SHARED_POOLS)
        hours = Counter(int(item["created_at"][11:13]) for item in history.page(None, 0, 4000, ANCHOR_US))
        busiest = max(hours, key=hours.get)
        assert busiest in possible or (busiest - 1) % 24 in possible or (busiest + 1) % 24 in possible
        peaks.add(busiest)
    assert len(peaks) >= 3  # chatbots of different homes peak at different hours
