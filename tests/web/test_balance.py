"""A worker sheds connections only when it holds far more than a live sibling (web/balance.py)."""

import pytest

from conversations_mock.web import balance
from conversations_mock.web.balance import ConnectionTable


@pytest.mark.parametrize("mine, siblings, sheds", [
    (16, [0], True),  # a burst all on this worker, the sibling idle
    (2, [0], True),
    (1, [0], False),  # a single connection goes nowhere better
    (10, [6], False),  # near enough: moving one would only move the imbalance
    (14, [6], True),
    (16, [0, 8], True),  # the least busy sibling counts
    (8, [8, 8], False),
    (5, [], False),  # a single worker has no one to shed to
])
def test_a_worker_sheds_only_when_far_ahead_of_its_least_busy_sibling(mine, siblings, sheds):
    table = ConnectionTable()
    seats = [table.seat(age, 1000 + age) for age in range(1, len(siblings) + 2)]
    for _ in range(mine):
        seats[0].opened()
    for seat, connections in zip(seats[1:], siblings):
        for _ in range(connections):
            seat.opened()
    assert seats[0].crowded() is sheds


def test_a_silent_sibling_no_longer_counts(monkeypatch):
    """A sibling that stopped beating (hung, stopped or gone) is not shed to."""
    clock = [100.0]
    monkeypatch.setattr(balance.time, "monotonic", lambda: clock[0])
    table = ConnectionTable()
    busy, idle = table.seat(1, 1001), table.seat(2, 1002)
    for _ in range(16):
        busy.opened()
    assert busy.crowded()
    clock[0] += balance.STALE + 1
    busy.beat()
    assert not busy.crowded()
    idle.beat()  # it is back, and seen at the next reading
    clock[0] += balance.REFRESH + 0.01
    assert busy.crowded()


def test_a_shedding_worker_stops_as_soon_as_its_sibling_has_caught_up():
    table = ConnectionTable()
    busy, idle = table.seat(1, 1001), table.seat(2, 1002)
    for _ in range(16):
        busy.opened()
    shed = 0
    while busy.crowded():  # each shed connection reconnects to the idle worker
        busy.closed()
        idle.opened()
        shed += 1
    assert (busy.open, idle.open, shed) == (11, 5, 5)


def test_workers_forked_from_the_master_share_the_table():
    import os

    table = ConnectionTable()
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker with three connections
        seat = table.seat(2, os.getpid())
        for _ in range(3):
            seat.opened()
        os.write(writing, b"x")
        os._exit(0)
    os.close(writing)
    os.read(reading, 1)
    os.close(reading)
    os.waitpid(pid, 0)
    mine = table.seat(1, os.getpid())
    for _ in range(8):
        mine.opened()
    assert mine.crowded()  # 8 >= 2 * 3 + 2, seen through the shared memory
    mine.closed()
    assert not mine.crowded()
