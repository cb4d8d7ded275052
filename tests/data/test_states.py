"""Block shuffles: the written-out Fisher-Yates of data/states.py is the loop it was."""

from hashlib import blake2b

from hypothesis import given
from hypothesis import strategies as st

from conversations_mock.data.states import BLOCK, LifeLayout, _block


def _shuffled(key, lives, number):
    """The plain Fisher-Yates: from the last place down, place `top` swaps with r[top] % (top + 1)."""
    randomness = blake2b(number.to_bytes(8, "big"), key=key, digest_size=BLOCK, person=b"block").digest()
    lives = list(lives)
    for top in range(BLOCK - 1, 0, -1):
        other = randomness[top] % (top + 1)
        lives[top], lives[other] = lives[other], lives[top]
    return tuple(lives)


@given(st.binary(min_size=32, max_size=32), st.integers(0, 2**63 - 1))
def test_a_blocks_lives_are_its_composition_shuffled_by_the_loop(key, number):
    layout = LifeLayout(key)
    assert layout.block(number) == _shuffled(key, layout.composition.lives, number)


class _Places:
    """A stand-in composition of ten distinct places, so every swap shows (a real one repeats lives)."""

    lives = tuple(range(BLOCK))


@given(st.binary(min_size=32, max_size=32), st.integers(0, 2**63 - 1))
def test_the_shuffle_moves_every_place_as_the_loop_does(key, number):
    assert _block(key, _Places, number) == _shuffled(key, _Places.lives, number)
