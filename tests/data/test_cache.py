"""BoundedCache: what a worker keeps stays within its budget, least recently used first out."""

import sys
import threading

import pytest

from conversations_mock.data.cache import BoundedCache


def test_a_recalled_entry_outlives_one_left_alone():
    cache = BoundedCache(3)
    for key in "abc":
        cache.remember(key, key.upper())
    assert cache.recall("a") == "A"  # now the most recently used
    cache.remember("d", "D")
    assert cache.recall("b") is None
    assert [cache.recall(key) for key in "acd"] == ["A", "C", "D"]


@pytest.mark.parametrize("sizes, kept", [((4, 4, 4), "bc"), ((10, 1, 1), "bc"), ((1, 1, 10), "c")])
def test_entries_go_by_weight_until_the_rest_fits(sizes, kept):
    cache = BoundedCache(10, len)
    for key, size in zip("abc", sizes):
        cache.remember(key, "x" * size)
    assert [key for key in "abc" if cache.recall(key) is not None] == list(kept)
    assert cache.weight == sum(len(cache[key]) for key in cache) <= 10 or len(cache) == 1


@pytest.fixture
def switching_often():
    """Threads switch as often as the interpreter allows, so recalls and evictions interleave."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_threads_recalling_while_others_remember_never_fail(switching_often):
    cache = BoundedCache(64)
    failures = []

    def work(offset):
        try:
            for i in range(20_000):
                cache.remember((offset + i) % 200, i)
                cache.recall((offset + 7 * i) % 200)
        except Exception as error:  # noqa: BLE001 - the test reports any
            failures.append(error)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(cache) <= 64 and cache.weight == len(cache)
