"""Where each state falls in a generated history, by arithmetic instead of a scan.

Conversations are grouped in blocks of BLOCK consecutive ones (newest first). Every block holds
the same number of each state, in an order shuffled per block from the chatbot's key, so the
state of conversation i, the number of conversations in a state and the position of the j-th
one all come from a block or two, whatever the length of the history.
"""

from functools import lru_cache
from hashlib import blake2b

from conversations_mock.schemas import STATES

BLOCK = 10
# Fisher-Yates from the last place down: (place, how many places it may swap with).
_SWAPS = tuple((top, top + 1) for top in range(BLOCK - 1, 0, -1))


@lru_cache(maxsize=256)
def _block_hasher(key: bytes):
    """A keyed hasher for block shuffles, copied per block: setting the key up costs more than the hash."""
    return blake2b(key=key, digest_size=BLOCK, person=b"block")


def _shuffle(hasher, composition: tuple, number: int) -> list:
    """The states of block `number`: `composition` shuffled by the block's digest (Fisher-Yates)."""
    hasher = hasher.copy()
    hasher.update(number.to_bytes(8, "big"))
    randomness = hasher.digest()
    states = list(composition)
    for top, choices in _SWAPS:
        other = randomness[top] % choices
        states[top], states[other] = states[other], states[top]
    return states


@lru_cache(maxsize=4096)
def _block(key: bytes, composition: tuple, number: int) -> tuple:
    """The states of block `number`, a seeded shuffle of `composition`."""
    return tuple(_shuffle(_block_hasher(key), composition, number))


def _shape(in_progress: int, resolved: int) -> tuple:
    """(states per block, the block's states in STATES order) for these numbers of each."""
    per_block = dict(zip(STATES, (in_progress, resolved, BLOCK - in_progress - resolved)))
    return per_block, tuple(s for s in STATES for _ in range(per_block[s]))


# Every shape a key can pick, made once: 2-5 in progress and 1-4 resolved per block.
_SHAPES = {(a, b): _shape(2 + a, 1 + b) for a in range(4) for b in range(4)}


class StateLayout:
    """The states of a generated history of `count` conversations."""

    def __init__(self, key: bytes, count: int):
        mix = blake2b(b"states", key=key, digest_size=2).digest()
        # Shared by every layout of this shape: read, never changed.
        self.per_block, self._composition = _SHAPES[mix[0] % 4, mix[1] % 4]
        self._key = key
        self.count = count

    def block(self, number: int) -> tuple:
        """The states of the conversations number*BLOCK .. number*BLOCK+BLOCK-1."""
        return _block(self._key, self._composition, number)

    def state_at(self, index: int) -> str:
        """The state of conversation `index` (0 is the newest)."""
        return self.block(index // BLOCK)[index % BLOCK]

    def total(self, state: str | None = None) -> int:
        """How many conversations there are, or how many are in `state`."""
        if state is None:
            return self.count
        full, rest = divmod(self.count, BLOCK)
        return full * self.per_block[state] + (self.block(full)[:rest].count(state) if rest else 0)

    def indexes(self, state: str | None, offset: int, limit: int) -> list:
        """Positions in the history of the conversations offset..offset+limit-1 of `state`."""
        wanted = min(offset + limit, self.total(state)) - offset
        if wanted <= 0:
            return []
        if state is None:
            return list(range(offset, offset + wanted))
        # Block b holds ranks b*per_block .. (b+1)*per_block-1 of the state: start at the offset's.
        number, skip = divmod(offset, self.per_block[state])
        # Shuffled afresh, not cached: a filtered page's blocks are seldom asked for again.
        hasher, composition = _block_hasher(self._key), self._composition
        found = []
        while len(found) < skip + wanted:
            base = number * BLOCK
            found += [base + place for place, s in enumerate(_shuffle(hasher, composition, number)) if s == state]
            number += 1
        return found[skip : skip + wanted]

    def states(self, offset: int, limit: int) -> list:
        """The states of conversations offset..offset+limit-1 (fewer at the end of the history)."""
        end = min(offset + limit, self.count)
        if end <= offset:
            return []
        first = offset // BLOCK
        states = [s for number in range(first, (end - 1) // BLOCK + 1) for s in self.block(number)]
        return states[offset - first * BLOCK : end - first * BLOCK]
