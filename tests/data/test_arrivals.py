"""Arrivals: weighed time and its inverse, exactly `count` by the anchor, strictly in order, by arithmetic."""

from hashlib import blake2b

from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.data.arrivals import DAY_US, HOUR_US, HOURLY_PROFILE, Arrivals, Rhythm
from conversations_mock.data.generator import ANCHOR_US

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
    assert moment < arrivals.moment(n + 1, draw(n + 1))
    # Arrival n is counted from its own moment on, and not a microsecond before.
    assert arrivals.arrived(moment) == n + 1 and arrivals.arrived(moment - 1) == n
