"""Where each state falls in a generated history, by arithmetic instead of a scan.

Conversations are grouped in blocks of BLOCK consecutive ones (newest first). Every block holds
the same number of each state, in an order shuffled per block from the chatbot's key, so the
state of conversation i, the number of conversations in a state and the position of the j-th
one all come from a block or two, whatever the length of the history.
"""

from functools import lru_cache
from hashlib import blake2b

from schemas import STATES

BLOCK = 10


@lru_cache(maxsize=4096)
def _block(key: bytes, composition: tuple, number: int) -> tuple:
    """The states of block `number`, a seeded shuffle of `composition`."""
    states = list(composition)
    randomness = blake2b(number.to_bytes(8, "big"), key=key, digest_size=BLOCK, person=b"block").digest()
    for top in range(BLOCK - 1, 0, -1):  # Fisher-Yates
        other = randomness[top] % (top + 1)
        states[top], states[other] = states[other], states[top]
    return tuple(states)


class StateLayout:
    """The states of a generated history of `count` conversations."""

    def __init__(self, key: bytes, count: int):
        mix = blake2b(b"states", key=key, digest_size=2).digest()
        in_progress = 2 + mix[0] % 4
        resolved = 1 + mix[1] % 4
        self.per_block = {
            "in_progress": in_progress,
            "resolved": resolved,
            "closed": BLOCK - in_progress - resolved,
        }
        self._composition = tuple(s for s in STATES for _ in range(self.per_block[s]))
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
        return full * self.per_block[state] + self.block(full)[:rest].count(state)

    def indexes(self, state: str | None, offset: int, limit: int) -> list:
        """Positions in the history of the conversations offset..offset+limit-1 of `state`."""
        end = min(offset + limit, self.total(state))
        if state is None:
            return list(range(offset, end))
        per_block = self.per_block[state]
        found = []
        number = positions = None
        for rank in range(offset, end):
            block_number, nth = divmod(rank, per_block)
            if block_number != number:  # a page spans a block or two: find the positions once per block
                number = block_number
                positions = [p for p, s in enumerate(self.block(number)) if s == state]
            found.append(number * BLOCK + positions[nth])
        return found
