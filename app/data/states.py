"""How generated conversations live, and where each state falls at an instant, by arithmetic instead of a scan.

Each conversation has a life: a kind (voice call, quick chat, a few hours, a few days, or idle:
messages for a while, then silence until the help desk closes it an idle time after the last
one) and the state it ends in. A chatbot's kinds last a constant time each, none longer than the
idle time past its last message, so every conversation ends. Arrivals
are grouped in blocks of BLOCK consecutive ones; every block holds the same lives, in an order
shuffled per block from the chatbot's key. Since arrivals are in order of time, the
conversations of one kind that have ended at an instant are exactly its first ones: so the
number in a state at an instant, and the position of the j-th one, come from a few counts of
whole blocks and a block or two, whatever the length of the history.
"""

import struct
from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b
from itertools import compress, cycle, islice

from conversations_mock.data.compiled import compiled
from conversations_mock.schemas.settings import IDLE_CLOSE_US  # the idle_close setting's default: a week

BLOCK = 10
_HOUR_US = 3600 * 10**6
IDLE, VOICE, QUICK, HOURS, DAYS = "idle", "voice", "quick", "hours", "days"
# The kinds, longest first: an idle life lasts its messages' span plus the idle time, every other kind
# at most the idle time, and the others' ranges (LifeLayout) do not overlap, so durations never
# increase along this order (kinds capped at the idle time tie) and at any instant each kind has
# ended for no later an arrival than the next one has.
ENDING_ORDER = (IDLE, DAYS, HOURS, QUICK, VOICE)
# Four 16-bit draws of durations, bytes 3..11 of the layout's digest.
_DRAWS = struct.Struct(">4H")
# An idle life's messages span a whole multiple of this: every count of messages (2 to 8) divides it,
# so its last message falls exactly at the span's end, an idle time before it is closed.
_SPAN_GRAIN_US = 840


# Compared and hashed by identity (a C slot call, not a generated __hash__: pages hash lives by the
# thousand); life() makes one object per (kind, final), so identity is equality.
@dataclass(frozen=True, eq=False)
class Life:
    """A conversation's life: its kind and the state it ends in; made by life()."""

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


@compiled
def shuffled(randomness: bytes, lives: tuple) -> tuple:
    """`lives` shuffled by Fisher-Yates from the last place down, place `top` swapping with place
    randomness[top] % (top + 1)."""
    lives = list(lives)
    for top in range(len(lives) - 1, 0, -1):
        other = randomness[top] % (top + 1)
        lives[top], lives[other] = lives[other], lives[top]
    return tuple(lives)


@lru_cache(maxsize=4096)
def _block(key: bytes, composition: "Composition", number: int) -> tuple:
    """The lives of block `number`, `composition` shuffled by the block's digest."""
    hasher = _block_hasher(key).copy()
    hasher.update(number.to_bytes(8, "big"))
    return shuffled(hasher.digest(), composition.lives)


# Compared and hashed by identity, like Life (the block cache's key holds it); composition() makes one per shape.
class Composition:
    """A block's lives before its shuffle, and what counts of them read: computed once per shape."""

    def __init__(self, idle_lives: int, resolved: int, turn: int):
        # `idle_lives` left idle (closed when the help desk closes them), a voice call, then
        # quick/hours/quick/days chats; those from the `turn`-th on (round the block) end resolved,
        # `resolved` of them, the others closed.
        kinds = [VOICE, *islice(cycle((QUICK, HOURS, QUICK, DAYS)), BLOCK - 1 - idle_lives)]
        finals = ["resolved" if (place - turn) % len(kinds) < resolved else "closed" for place in range(len(kinds))]
        self.lives = (life(IDLE, "closed"),) * idle_lives + tuple(map(life, kinds, finals))
        self.distinct = tuple(dict.fromkeys(self.lives))
        self._per_block = {}
        # For each state, [(i, lives)]: `lives` are in it in the stretches up to stretch i (after the
        # previous entry's), where kinds ENDING_ORDER[i:] have ended. Neighbouring stretches with the same
        # lives in a state are one (an idle life's end changes nothing resolved), so its cut is never counted.
        endings = [ENDING_ORDER[i:] for i in range(len(ENDING_ORDER) + 1)]
        self.by_stretch = {}
        for state in {"in_progress", *(life.final for life in self.distinct)}:
            stretches = [frozenset(life for life in self.distinct if life.matches(state, life.kind in ended))
                         for ended in endings]
            self.by_stretch[state] = tuple((i, lives) for i, lives in enumerate(stretches)
                                           if i + 1 == len(stretches) or stretches[i + 1] != lives)

    def per_block(self, lives: frozenset) -> int:
        """How many of a block's lives are among `lives` (a few sets per shape are ever asked)."""
        counted = self._per_block.get(lives)
        if counted is None:
            counted = self._per_block[lives] = sum(map(lives.__contains__, self.lives))
        return counted


def composition(idle_lives: int, resolved: int, turn: int) -> Composition:
    """The one Composition of `idle_lives` idle lives and `resolved` others resolved, from the `turn`-th."""
    return _composition(idle_lives, resolved, turn % (BLOCK - idle_lives))


@lru_cache(maxsize=None)  # 4 * 4 * 9 shapes at most
def _composition(idle_lives: int, resolved: int, turn: int) -> Composition:
    return Composition(idle_lives, resolved, turn)


class LifeLayout:
    """The lives of a generated history, how long each kind lasts and its messages come (microseconds).

    :param key: the chatbot's key (data/generator.py chatbot_key)
    :param idle_us: how long a conversation goes without a message before it is closed (at least 1 s)
    """

    def __init__(self, key: bytes, idle_us: int = IDLE_CLOSE_US):
        mix = blake2b(b"lives", key=key, digest_size=14).digest()
        self._key = key
        # 1-4 idle and 1-4 resolved per block: at least two ending closed, so every state recurs.
        self.composition = composition(1 + mix[0] % 4, 1 + mix[1] % 4, mix[2])
        self.lives = self.composition.distinct
        draw = _DRAWS.unpack_from(mix, 3)
        natural = {  # each a 16-bit draw scaled over its range
            VOICE: 1_000_000 + draw[0] * 4_000_000 // 65_536,  # 1 to 5 seconds
            QUICK: (5 + draw[1] % 36) * 60 * 10**6,  # 5 to 40 minutes
            HOURS: _HOUR_US + draw[2] * 7 * _HOUR_US // 65_536,  # 1 to 8 hours
            DAYS: 24 * _HOUR_US + draw[3] * 48 * _HOUR_US // 65_536,  # 1 to 3 days
        }
        # Kinds that would last longer than the idle time are shortened to it: in progress, none has
        # gone longer without a message (its start is its first event).
        self.spans = {kind: min(duration, idle_us) for kind, duration in natural.items()}
        # An idle life's messages come for 10 minutes to 6 hours (no longer than the idle time), then none.
        idle_span = 10 * 60 * 10**6 + int.from_bytes(mix[11:13], "big") * 350 * 60 * 10**6 // 65_536
        self.spans[IDLE] = max(_SPAN_GRAIN_US, min(idle_span, idle_us) // _SPAN_GRAIN_US * _SPAN_GRAIN_US)
        # How long each kind stays in progress: its messages' span, and for an idle life the idle time after.
        self.durations = {**self.spans, IDLE: self.spans[IDLE] + idle_us}

    def block(self, number: int) -> tuple:
        """The lives of arrivals number*BLOCK .. number*BLOCK+BLOCK-1."""
        return _block(self._key, self.composition, number)

    def life(self, n: int) -> Life:
        """The life of arrival n."""
        return self.block(n // BLOCK)[n % BLOCK]

    def count(self, lives: frozenset, end: int) -> int:
        """How many of arrivals 0..end-1 have one of `lives`."""
        whole, rest = divmod(end, BLOCK)
        counted = whole * self.composition.per_block(lives)
        return counted + (sum(map(lives.__contains__, self.block(whole)[:rest])) if rest else 0)

    def find(self, lives: frozenset, rank: int, end: int, wanted: int) -> list:
        """Arrival numbers below `end` of the rank-th, rank+1-th, ... (up to `wanted`) arrivals with one of `lives`."""
        # Block b holds ranks b*per_block .. (b+1)*per_block-1 of these lives: start at the rank's.
        number, skip = divmod(rank, self.composition.per_block(lives))
        # Blocks through the cache: the page's conversations look their lives up in them next.
        found = []
        while len(found) < skip + wanted and number * BLOCK < end:
            base = number * BLOCK
            found += compress(range(base, base + BLOCK), map(lives.__contains__, self.block(number)))
            number += 1
        # Arrival numbers grow along `found`, so those past `end` (of its last block) trail it.
        return [n for n in found[skip : skip + wanted] if n < end]
