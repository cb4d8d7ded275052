"""The server's clock: the instant each page is evaluated at, frozen or running.

`fixed` is the frozen instant every generated history was anchored at; an instant freezes
another moment; `now` runs with the wall clock. A speed makes any of them run that many times
faster from the moment the clock was made: gunicorn builds the app (and so the clock) in its
master before forking, so every worker counts from the same start and answers alike.
"""

import time

from conversations_mock.data.generator import ANCHOR_US

SECOND_US = 10**6


class Clock:
    """An instant in microseconds since the epoch: `start_us`, advanced `speed` times the wall clock's pace.

    :param start_us: the instant when the clock is made
    :param speed: how many clock seconds pass per wall-clock second (0: frozen)
    :param wall: seconds since the epoch, as time.time (tests pass their own)
    """

    def __init__(self, start_us: int = ANCHOR_US, speed: float = 0.0, wall=time.time):
        self.start_us = start_us
        self.speed = speed
        self._wall = wall
        self._started = wall()

    @classmethod
    def of(cls, setting, speed: float | None = None, wall=time.time) -> "Clock":
        """The clock a `clock` setting names ('fixed', 'now' or microseconds), at `speed` (None: its own)."""
        if setting == "now":
            # Whole seconds, so a running clock ticks on the same boundaries in every worker.
            return cls(int(wall()) * SECOND_US, 1.0 if speed is None else speed, wall)
        return cls(ANCHOR_US if setting == "fixed" else setting, speed or 0.0, wall)

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
