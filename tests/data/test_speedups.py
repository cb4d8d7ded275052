"""The C twins of the page builder's helpers (app/data/_speedups.c) answer exactly as their Python functions."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations_mock.data.arrivals import daily_rhythm
from conversations_mock.data.compiled import PYTHON, _speedups, is_compiled
from conversations_mock.data.generator import ANCHOR_US
from tests.helpers import require

if not is_compiled():
    require("cc")  # no compiler, nothing to compare: skip (fail under CI); with one, the first test says what to do

# Years 1..9999 in microseconds since 1970, the range a date can print, and past both ends.
FIRST_US, END_US = -62_135_596_800 * 10**6, 253_402_300_800 * 10**6
INSTANTS = st.one_of(
    st.integers(FIRST_US - 10**12, END_US + 10**12),
    st.integers(-(2**70), 2**70),
    # Fractions with trailing zeros, and whole seconds: the text drops the zeros, then the dot.
    st.tuples(st.integers(FIRST_US // 10**6, END_US // 10**6), st.integers(0, 6), st.integers(0, 999_999)).map(
        lambda drawn: drawn[0] * 10**6 + drawn[2] // 10 ** drawn[1] * 10 ** drawn[1]),
)
EDGES = [0, 1, 10, 999_999, 1_000_000, -1, -(10**6), ANCHOR_US, FIRST_US, FIRST_US - 1, END_US - 1, END_US,
         2**63 - 1, -(2**63), 2**63, -(2**63) - 1]
HEX = st.text(alphabet="0123456789abcdef", min_size=32, max_size=64)


def _outcome(function, *args):
    """What a call returns, or the type of error it raises."""
    try:
        return function(*args)
    except (OverflowError, ValueError) as error:
        return type(error)


def test_the_c_twins_are_built():
    assert is_compiled(), (
        "app/data/_speedups.c was not compiled at install: install a C compiler (Debian: gcc) and run "
        "`make setup` again. The Python functions serve meanwhile, the same pages more slowly."
    )
    assert set(PYTHON) == {"timestamp_text", "uuid4_hex", "decimal_digits", "arrival_moment", "shuffled"}
    stale = [name for name in PYTHON if not hasattr(_speedups, name)]
    assert not stale, f"the compiled module predates {stale}: run `make setup` again to rebuild it"


def test_the_page_builder_calls_the_twins():
    """Each module's helper is the twin, not its Python function (which the tests below compare it with)."""
    from conversations_mock.data import arrivals, generator, platforms, states

    in_use = {name: getattr(module, name) for module in (generator, platforms, arrivals, states)
              for name in PYTHON if hasattr(module, name)}
    assert set(in_use) == set(PYTHON)
    assert all(function is getattr(_speedups, name) for name, function in in_use.items())
    assert generator.uuid4_hex is _speedups.uuid4_hex  # imported by name from platforms
    schedule = arrivals.Arrivals(b"k" * 32, 50, ANCHOR_US, lambda n: 0)
    assert schedule.moment.func is _speedups.arrival_moment


@pytest.mark.parametrize("microseconds", EDGES)
def test_timestamp_text_edges(microseconds):
    assert _outcome(_speedups.timestamp_text, microseconds) == _outcome(PYTHON["timestamp_text"], microseconds)


@given(INSTANTS)
def test_timestamp_text_is_its_twin(microseconds):
    assert _outcome(_speedups.timestamp_text, microseconds) == _outcome(PYTHON["timestamp_text"], microseconds)


@given(HEX)
def test_uuid4_hex_is_its_twin(hexed):
    assert _speedups.uuid4_hex(hexed) == PYTHON["uuid4_hex"](hexed)


@given(st.binary(max_size=16), st.sampled_from([9, 10, 11, 16]))
def test_decimal_digits_is_its_twin(raw, count):
    assert _speedups.decimal_digits(raw, count) == PYTHON["decimal_digits"](raw, count)


@given(peak=st.integers(0, 23), first=st.integers(-(10**17), 10**17), slot=st.integers(0, 10**14),
       n=st.integers(0, 10**7), draw=st.integers(0, 2**32 - 1), data=st.data())
def test_arrival_moment_is_its_twin(peak, first, slot, n, draw, data):
    rhythm = daily_rhythm(peak)
    spread = data.draw(st.integers(0, slot))
    args = (first, slot, spread, rhythm.day, rhythm.starts, rhythm.weights, n, draw)
    expected = PYTHON["arrival_moment"](*args)
    if -(2**63) <= expected < 2**63:
        assert _speedups.arrival_moment(*args) == expected
    else:  # past any real schedule (year 292,277 and on): the twin refuses what Python's ints would carry
        with pytest.raises(OverflowError, match="passes 64 bits"):
            _speedups.arrival_moment(*args)


@given(st.binary(min_size=10, max_size=12), st.lists(st.sampled_from("abcdef"), max_size=10).map(tuple))
def test_shuffled_is_its_twin(randomness, lives):
    assert _speedups.shuffled(randomness, lives) == PYTHON["shuffled"](randomness, lives)


@pytest.mark.parametrize("call, error", [
    (lambda: _speedups.uuid4_hex("0123456789abcdef"), ValueError),  # too short
    (lambda: _speedups.uuid4_hex("0123456789abcdef" + "A" * 16), ValueError),  # upper case
    (lambda: _speedups.uuid4_hex(b"0" * 32), ValueError),
    (lambda: _speedups.decimal_digits(b"\x01" * 17, 16), ValueError),  # more than 16 bytes
    (lambda: _speedups.decimal_digits(b"\x01", 0), ValueError),
    (lambda: _speedups.decimal_digits("text", 9), TypeError),
    (lambda: _speedups.timestamp_text("0"), TypeError),
    (lambda: _speedups.arrival_moment(0, 1, 1, 0, (0,) * 24, (1,) * 24, 0, 0), ValueError),  # a day of 0
    (lambda: _speedups.arrival_moment(0, 1, 1, 24, (0,) * 23, (1,) * 24, 0, 0), TypeError),  # 23 hours
    (lambda: _speedups.arrival_moment(2**64, 1, 1, 24, (0,) * 24, (1,) * 24, 0, 0), OverflowError),
    (lambda: _speedups.shuffled(b"\x01" * 3, ("a",) * 4), ValueError),  # too little randomness
    (lambda: _speedups.shuffled(b"\x01" * 4, ["a"] * 4), TypeError),
])
def test_the_twins_refuse_what_the_generator_never_passes(call, error):
    with pytest.raises(error):
        call()
