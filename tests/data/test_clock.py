"""The server's clock: frozen at an instant, or running from its start at a speed, in whole seconds."""

import pytest

from conversations_mock.data.clock import SECOND_US, Clock
from conversations_mock.data.generator import ANCHOR_US
from conversations_mock.schemas.clock import instant_us


class Wall:
    """A wall clock the test moves by hand (seconds since the epoch)."""

    def __init__(self, seconds=1_780_315_200.25):
        self.seconds = seconds

    def __call__(self):
        return self.seconds


@pytest.mark.parametrize(("setting", "expected"), [
    ("fixed", ANCHOR_US),
    (instant_us("2026-06-01T12:00:00Z"), instant_us("2026-06-01T12:00:00Z")),
    (instant_us("2026-06-01T12:00:00.123456Z"), instant_us("2026-06-01T12:00:00.123456Z")),
])
def test_fixed_and_instant_clocks_stay_where_they_are(setting, expected):
    wall = Wall()
    clock = Clock.of(setting, wall=wall)
    wall.seconds += 86_400
    assert clock.now_us() == expected and not clock.running


def test_now_follows_the_wall_clock_in_whole_seconds():
    wall = Wall(1_780_315_200.75)
    clock = Clock.of("now", wall=wall)
    assert clock.now_us() == 1_780_315_200 * SECOND_US
    wall.seconds += 0.2  # still the same second: repeats share a page
    assert clock.now_us() == 1_780_315_200 * SECOND_US
    wall.seconds += 3
    assert clock.now_us() == 1_780_315_203 * SECOND_US


@pytest.mark.parametrize("setting", ["fixed", "now", instant_us("2026-06-01T12:00:00Z")])
def test_a_speed_runs_any_clock_that_many_times_faster_from_its_start(setting):
    wall = Wall()
    clock = Clock.of(setting, 60, wall=wall)
    start = clock.now_us()
    wall.seconds += 5
    assert clock.now_us() - start == 300 * SECOND_US
    assert clock.running


def test_now_at_speed_zero_is_frozen_at_the_start():
    wall = Wall(1_780_315_200.5)
    clock = Clock.of("now", 0, wall=wall)
    wall.seconds += 100
    assert clock.now_us() == 1_780_315_200 * SECOND_US and not clock.running


@pytest.mark.parametrize(("setting", "mode", "anchor"), [
    ("fixed", "fixed", ANCHOR_US),
    (instant_us("2026-06-01T12:00:00Z"), "instant", instant_us("2026-06-01T12:00:00Z")),
    ("now", "now", instant_us("2026-06-01T00:00:00Z")),  # the wall's day: servers started that day agree
])
def test_a_clock_says_its_mode_and_where_histories_hold_their_count(setting, mode, anchor):
    clock = Clock.of(setting, wall=Wall(1_780_315_200.25 + 3 * 3600))  # 2026-06-01T15:00:00.25Z
    assert (clock.mode, clock.anchor_us) == (mode, anchor)
