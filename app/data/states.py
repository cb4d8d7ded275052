"""How generated conversations live, and where each state falls at an instant, by arithmetic instead of a scan.

Each conversation has a life: a kind (voice call, quick chat, a few hours, a few days, or open:
never closed) and the state it ends in. A chatbot's kinds last a constant time each. Arrivals
are grouped in blocks of BLOCK consecutive ones; every block holds the same lives, in an order
shuffled per block from the chatbot's key. Since arrivals are in order of time, the
conversations of one kind that have ended at an instant are exactly its first ones: so the
number in a state at an instant, and the position of the j-th one, come from a few counts of
whole blocks and a block or two, whatever the length of the history.
"""

from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b
from itertools import cycle, islice

BLOCK = 10
_HOUR_US = 3600 * 10**6
OPEN, VOICE, QUICK, HOURS, DAYS = "open", "voice", "quick", "hours", "days"
FINITE_KINDS = (VOICE, QUICK, HOURS, DAYS)
# Fisher-Yates from the last place down: (place, how many places it may swap with).
_SWAPS = tuple((top, top + 1) for top in range(BLOCK - 1, 0, -1))


# Compared and hashed by identity (a C slot call, not a generated __hash__: pages hash lives by the
# thousand); life() makes one object per (kind, final), so identity is equality.
@dataclass(frozen=True, eq=False)
class Life:
    """A conversation's life: its kind and the state it ends in (open ones never end); made by life()."""

    kind: str
    final: str

    def matches(self, state: str, ended: bool) -> bool:
        """Whether a conversation of this life is in `state`, once it has `ended` (or not)."""
        return state == (self.final if ended else "in_progress")


@lru_cache(maxsize=None)
def life(kind: str, final: str) -> Life:
    """The one Life of this kind and final state."""
    return Life(kind, final)


@lru_cache(maxsize=256)
def _block_hasher(key: bytes):
    """A keyed hasher for block shuffles, copied per block: setting the key up costs more than the hash."""
    return blake2b(key=key, digest_size=BLOCK, person=b"block")


def _shuffle(hasher, composition: tuple, number: int) -> list:
    """The lives of block `number`: `composition` shuffled by the block's digest (Fisher-Yates)."""
    hasher = hasher.copy()
    hasher.update(number.to_bytes(8, "big"))
    randomness = hasher.digest()
    lives = list(composition)
    for top, choices in _SWAPS:
        other = randomness[top] % choices
        lives[top], lives[other] = lives[other], lives[top]
    return lives


@lru_cache(maxsize=4096)
def _block(key: bytes, composition: tuple, number: int) -> tuple:
    """The lives of block `number`, a seeded shuffle of `composition`."""
    return tuple(_shuffle(_block_hasher(key), composition, number))


def composition(open_lives: int, resolved: int, turn: int) -> tuple:
    """A block's lives: `open_lives` open, a voice call, then quick/hours/quick/days chats; `resolved` ending ones resolved."""
    # The ending lives from the `turn`-th on (round the block) end resolved, the others closed.
    kinds = [VOICE, *islice(cycle((QUICK, HOURS, QUICK, DAYS)), BLOCK - 1 - open_lives)]
    finals = ["resolved" if (place - turn) % len(kinds) < resolved else "closed" for place in range(len(kinds))]
    return (life(OPEN, "in_progress"),) * open_lives + tuple(map(life, kinds, finals))


class LifeLayout:
    """The lives of a generated history, and how long each kind lasts (microseconds)."""

    def __init__(self, key: bytes):
        mix = blake2b(b"lives", key=key, digest_size=12).digest()
        self._key = key
        # 1-4 open and 1-4 resolved per block: at least two ending closed, so every state recurs.
        self.composition = composition(1 + mix[0] % 4, 1 + mix[1] % 4, mix[2])
        self.lives = tuple(dict.fromkeys(self.composition))
        self.per_block = {life: self.composition.count(life) for life in self.lives}
        draw = [int.from_bytes(mix[i : i + 2], "big") for i in range(3, 11, 2)]
        self.durations = {  # each a 16-bit draw scaled over its range
            VOICE: 1_000_000 + draw[0] * 4_000_000 // 65_536,  # 1 to 5 seconds
            QUICK: (5 + draw[1] % 36) * 60 * 10**6,  # 5 to 40 minutes
            HOURS: _HOUR_US + draw[2] * 7 * _HOUR_US // 65_536,  # 1 to 8 hours
            DAYS: 24 * _HOUR_US + draw[3] * 48 * _HOUR_US // 65_536,  # 1 to 3 days
        }

    def block(self, number: int) -> tuple:
        """The lives of arrivals number*BLOCK .. number*BLOCK+BLOCK-1."""
        return _block(self._key, self.composition, number)

    def life(self, n: int) -> Life:
        """The life of arrival n."""
        return self.block(n // BLOCK)[n % BLOCK]

    def count(self, lives: frozenset, end: int) -> int:
        """How many of arrivals 0..end-1 have one of `lives`."""
        whole, rest = divmod(end, BLOCK)
        counted = whole * sum(self.per_block[life] for life in lives)
        return counted + (sum(life in lives for life in self.block(whole)[:rest]) if rest else 0)

    def find(self, lives: frozenset, rank: int, end: int, wanted: int) -> list:
        """Arrival numbers below `end` of the rank-th, rank+1-th, ... (up to `wanted`) arrivals with one of `lives`."""
        per_block = sum(self.per_block[life] for life in lives)
        # Block b holds ranks b*per_block .. (b+1)*per_block-1 of these lives: start at the rank's.
        number, skip = divmod(rank, per_block)
        # Shuffled afresh, not cached: a deep page's blocks are seldom asked for again.
        hasher, found = _block_hasher(self._key), []
        while len(found) < skip + wanted and number * BLOCK < end:
            base = number * BLOCK
            found += [base + place for place, life in enumerate(_shuffle(hasher, self.composition, number))
                      if life in lives and base + place < end]
            number += 1
        return found[skip : skip + wanted]
