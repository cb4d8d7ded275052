"""The server's clock: the instant each page is evaluated at, frozen or running.

`fixed` is the frozen instant every generated history was anchored at; an instant freezes
another moment; `now` runs with the wall clock. A speed makes any of them run that many times
faster from the moment the clock was made: gunicorn builds the app (and so the clock) in its
master before forking, so every worker counts from the same start and answers alike.
"""

import time

from conversations_mock.data.generator import ANCHOR_US

SECOND_US = 10**6
DAY_US = 86400 * SECOND_US


class Clock:
    """An instant in microseconds since the epoch: `start_us`, advanced `speed` times the wall clock's pace.

    :param start_us: the instant when the clock is made
    :param speed: how many clock seconds pass per wall-clock second (0: frozen)
    :param wall: seconds since the epoch, as time.time (tests pass their own)
    """

    def __init__(self, start_us: int = ANCHOR_US, speed: float = 0.0, wall=time.time, mode: str = "fixed"):
        self.start_us = start_us
        self.speed = speed
        self.mode = mode  # how the clock was set: fixed, now, or instant (an ISO 8601 instant)
        self._wall = wall
        self._started = wall()

    @classmethod
    def of(cls, setting, speed: float | None = None, wall=time.time) -> "Clock":
        """The clock a `clock` setting names ('fixed', 'now' or microseconds), at `speed` (None: its own)."""
        if setting == "now":
            # Whole seconds, so a running clock ticks on the same boundaries in every worker.
            return cls(int(wall()) * SECOND_US, 1.0 if speed is None else speed, wall, "now")
        if setting == "fixed":
            return cls(ANCHOR_US, speed or 0.0, wall, "fixed")
        return cls(setting, speed or 0.0, wall, "instant")

    @property
    def anchor_us(self) -> int:
        """The instant a generated chatbot holds its configured count at: the clock's start, or under `now`
        the start of that day (UTC), so that servers, and restarts, on one day serve the same
        conversations."""
        return self.start_us - self.start_us % DAY_US if self.mode == "now" else self.start_us

    @property
    def running(self) -> bool:
        """Whether the instant moves."""
        return self.speed > 0

    def now_us(self) -> int:
        """The current instant; a running clock's in whole seconds, so repeats within a second share a page."""
        if not self.speed:
            return self.start_us
        elapsed_us = int((self._wall() - self._started) * self.speed * SECOND_US)
        return (self.start_us + elapsed_us) // SECOND_US * SECOND_US
