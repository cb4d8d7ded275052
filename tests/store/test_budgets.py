"""The embedded store's budget table (store/budgets.py): slots found, emptied, shared, replaced when full."""

import pytest

from conversations_mock.store import budgets as module
from conversations_mock.store.budgets import PROBES, SLOTS, Budgets

T0 = 1_765_000_000_000
HOUR = 3_600_000


@pytest.fixture
def table(tmp_path):
    made = Budgets(str(tmp_path / "budgets"))
    yield made
    made.close()


@pytest.fixture
def colliding(monkeypatch):
    """Every subject's budget has the same home slot (5), as tags that collide would."""
    real = module._tags

    def tags(namespace, subject):
        space, _ = real(namespace, subject)
        return space, int(subject) * SLOTS + 5

    monkeypatch.setattr(module, "_tags", tags)


def test_colliding_budgets_count_apart_in_their_neighbours(table, colliding):
    for subject in range(PROBES):
        assert table.take("ns", str(subject), HOUR, T0 + subject) == (1, HOUR)
    assert [table.take("ns", str(subject), HOUR, T0 + PROBES)[0] for subject in range(PROBES)] == [2] * PROBES


def test_a_full_neighbourhood_gives_the_oldest_budgets_slot_to_a_new_one(table, colliding):
    for subject in range(PROBES):
        table.take("ns", str(subject), HOUR, T0 + subject)
    assert table.take("ns", str(PROBES), HOUR, T0 + PROBES)[0] == 1
    assert table.take("ns", "0", HOUR, T0 + PROBES)[0] == 1  # subject 0's (the oldest) was replaced
    assert table.take("ns", "5", HOUR, T0 + PROBES)[0] == 2  # the others kept theirs


def test_a_slot_emptied_by_a_namespaces_reset_is_taken_before_any_budget_is_replaced(table, colliding):
    for subject in range(PROBES):
        table.take("b" if subject == 10 else "a", str(subject), HOUR, T0 + subject)
    table.forget("b")
    assert table.take("a", str(PROBES), HOUR, T0 + PROBES)[0] == 1
    assert [table.take("a", str(subject), HOUR, T0 + PROBES)[0] for subject in (0, 11, PROBES)] == [2, 2, 2]


def test_forgetting_a_namespace_keeps_the_others_budgets(table):
    for namespace in ("a", "b"):
        table.take(namespace, "k", HOUR, T0)
    table.forget("a")
    assert (table.take("a", "k", HOUR, T0)[0], table.take("b", "k", HOUR, T0)[0]) == (1, 2)
    table.forget()
    assert table.take("b", "k", HOUR, T0)[0] == 1


def test_a_second_view_of_the_file_counts_the_same_budgets(table, tmp_path):
    table.take("ns", "k", HOUR, T0)
    other = Budgets(str(tmp_path / "budgets"))  # as another worker maps it
    try:
        assert other.take("ns", "k", HOUR, T0 + 1) == (2, HOUR - 1)
        assert table.take("ns", "k", HOUR, T0 + 2) == (3, HOUR - 2)
    finally:
        other.close()
