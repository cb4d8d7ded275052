"""Generated histories: a chatbot's conversation n computed from (seed, chatbot, n, instant) alone.

Conversations are numbered by arrival (0 the oldest), so what makes one conversation (its id,
user, platform, start, ...) never changes as the clock moves; only its life (state, last message,
updated_at) depends on the instant. Nothing here builds, sorts or scans a whole history, so a
chatbot with a million conversations costs what one with fifty does, at any instant, and every
worker, run and machine computes the same values.
"""

import struct
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from hashlib import blake2b
from itertools import repeat

from conversations_mock.data.arrivals import Arrivals
from conversations_mock.data.messages import MessagePools
from conversations_mock.data.platforms import PLATFORM_LOCALES, TEXT_PLATFORM_TABLE, sns_user_id, uuid4_text
from conversations_mock.data.states import OPEN, VOICE, LifeLayout
from conversations_mock.data.timeline import Snapshot
from conversations_mock.schemas.clock import EPOCH

# The `fixed` clock's instant: a generated chatbot's configured count of conversations have arrived by then.
ANCHOR_US = int((datetime(2025, 3, 7, 6, 0, tzinfo=timezone.utc) - EPOCH).total_seconds()) * 10**6
DAY_US = 24 * 3600 * 10**6


def chatbot_key(seed: int, chatbot_id: str) -> bytes:
    """The 32-byte key every value of this chatbot's generated history derives from."""
    return blake2b(f"{seed}:{chatbot_id}".encode(), digest_size=32, person=b"chatbot").digest()


def generated_count(key: bytes, low: int, high: int) -> int:
    """How many conversations a chatbot has, drawn from low..high by its key."""
    draw = int.from_bytes(blake2b(b"count", key=key, digest_size=8).digest(), "big")
    return low + draw % (high - low + 1)


@lru_cache(maxsize=1024)
def _day_text(day: int) -> str:
    """"YYYY-MM-DDT" of a day since the epoch (a history spans a few months of them)."""
    return f"{(EPOCH + timedelta(days=day)).date().isoformat()}T"


_CLOCK = tuple(f"{minute // 60:02d}:{minute % 60:02d}:" for minute in range(1440))  # "HH:MM:" of a day's minutes
_SECONDS = tuple(f"{second:02d}" for second in range(60))


def timestamp_text(microseconds: int) -> str:
    """format_timestamp(EPOCH + microseconds), by integer arithmetic and small tables."""
    seconds, fraction = divmod(microseconds, 10**6)
    day, second = divmod(seconds, 86400)
    minute, second = divmod(second, 60)
    # The API prints microseconds without trailing zeros, and none at all on a whole second;
    # str(10**6 + fraction)[1:] pads to six digits at a third of the cost of a format spec.
    if fraction % 10:
        return f"{_day_text(day)}{_CLOCK[minute]}{_SECONDS[second]}.{str(10**6 + fraction)[1:]}+00:00"
    if fraction:
        return f"{_day_text(day)}{_CLOCK[minute]}{_SECONDS[second]}.{str(10**6 + fraction)[1:].rstrip('0')}+00:00"
    return f"{_day_text(day)}{_CLOCK[minute]}{_SECONDS[second]}+00:00"


# Bytes 32..48 of a conversation's first digest, read in one call: platform, its point in its arrival
# slot, open span, signed in, message shape, language, text, human mode, voice room or message count.
_FIELDS = struct.Struct(">HIIBBBBBH")
# How long an open (never closed) conversation goes on getting messages, by a tenth of its draw:
# half within half an hour, three in ten within six hours, the rest within three days.
_SPANS_US = (30 * 60 * 10**6,) * 5 + (6 * 3600 * 10**6,) * 3 + (3 * DAY_US,) * 2
# Snapshots a history keeps: the instants of a page walk and of a running clock's last seconds.
_SNAPSHOTS = 8


def _slot_draw(head):
    """n -> arrival n's point in its slot: bytes 34..38 of its first digest (`head` is the keyed hasher)."""

    def draw(n: int) -> int:
        hasher = head.copy()
        hasher.update(n.to_bytes(8, "big"))
        return int.from_bytes(hasher.digest()[34:38], "big")

    return draw


class GeneratedHistory:
    """A chatbot's conversations at any instant, newest first, each computed on demand."""

    def __init__(self, chatbot_id: str, seed: int, count: int, pools: MessagePools, key: bytes | None = None):
        """`key` is chatbot_key(seed, chatbot_id), where the caller has computed it already."""
        self.chatbot_id = chatbot_id
        self.key = chatbot_key(seed, chatbot_id) if key is None else key
        self.lives = LifeLayout(self.key)
        self._durations = self.lives.durations
        self._pools = pools
        # Keyed hashers with the key absorbed, copied per conversation: the same digests as
        # blake2b(n, key=...) each time, without setting the key up again.
        self._head = blake2b(key=self.key, digest_size=64)
        self._tail = blake2b(key=self.key, digest_size=32, person=b"more")
        # Not a bound method of self: a cycle would keep every history the cache lets go of until the
        # collector's oldest generation walks the heap (tens of ms under a stream of new chatbots).
        self.arrivals = Arrivals(self.key, count, ANCHOR_US, _slot_draw(self._head))
        self._snapshots = {}

    follows_clock = True

    def snapshot(self, at: int | None = None) -> Snapshot:
        """The history at instant `at` (microseconds since the epoch; None: the fixed clock's)."""
        at = ANCHOR_US if at is None else at
        snapshot = self._snapshots.get(at)
        if snapshot is None:
            if len(self._snapshots) >= _SNAPSHOTS:
                self._snapshots.clear()
            snapshot = self._snapshots[at] = Snapshot(self.lives, self.arrivals, at)
        return snapshot

    def total(self, state: str | None = None, at: int | None = None) -> int:
        """How many conversations exist at `at`, or how many are in `state` then."""
        return self.snapshot(at).total(state)

    def page(self, state: str | None, offset: int, limit: int, at: int | None = None) -> list:
        """Conversations offset..offset+limit-1 (newest first) among those in `state` (None: all) at `at`."""
        snapshot = self.snapshot(at)
        positions = snapshot.positions(state, offset, limit)
        return list(map(self._build, positions, self.lives.lives_of(positions), repeat(snapshot.at)))

    def conversation(self, n: int, at: int | None = None) -> dict:
        """Arrival n (0 the oldest) as the API prints it at `at`; it must have arrived by then."""
        snapshot = self.snapshot(at)
        if not 0 <= n < snapshot.arrived:
            raise IndexError(f"conversation {n} has not arrived at that instant")
        return self._build(n, self.lives.life(n), snapshot.at)

    def _build(self, n: int, life, at: int) -> dict:
        """Arrival n, whose life is `life`, at instant `at` (it has arrived by then)."""
        number = n.to_bytes(8, "big")
        hasher = self._head.copy()
        hasher.update(number)
        head = hasher.digest()
        pick, draw, length, signed_in, shape, language, text, human, room = _FIELDS.unpack_from(head, 32)
        created_us = self.arrivals.moment(n, draw)
        kind = life.kind
        user_id = last_message = voice_path = None
        if kind == VOICE:  # a block's one voice call gives voice its tenth of the platforms
            platform, duration, events = "voice", self._durations[VOICE], 1
            metadata = {"type": "voice_chat"}
            voice_path = f"conversation-voice_assistant_room_{1000 + room % 9000}.ogg"
        else:
            platform = TEXT_PLATFORM_TABLE[pick % len(TEXT_PLATFORM_TABLE)]
            # Scaled, not reduced modulo the span, so the six-hour and three-day spans are reached.
            duration = (length * _SPANS_US[length % 10] >> 32) if kind == OPEN else self._durations[kind]
            events = 2 + room % 7
        # Ended exactly when Snapshot.ended counts it (arrival moments increase), read without those counts.
        in_progress = kind == OPEN or created_us + duration > at
        # Messages come every `gap` from the start; an ended conversation was last updated when it ended.
        if in_progress:
            gap = max(1, duration // events)
            event = min((at - created_us) // gap, events)
            updated_us = created_us + event * gap
        else:
            event, updated_us = events, created_us + duration
        if platform != "voice":
            anonymous = signed_in < 218  # about 85% of users never sign in, as in the document
            metadata = {"anonymous": anonymous}
            shape %= 20  # 2 in 20 conversations show no message; the others the user's and the bot's in turn
            bot = shape >= 2 and event % 2 == 1
            if not anonymous or bot:  # a second digest holds the user's and the messages' ids
                hasher = self._tail.copy()
                hasher.update(number)
                tail = hasher.digest()
                if not anonymous:
                    user_id = uuid4_text(tail[16:32])
            if shape >= 2:
                locales = PLATFORM_LOCALES[platform]
                user_texts, bot_texts = self._pools.get(locales[language % len(locales)])
                if not bot:
                    last_message = user_texts[(text + event) % len(user_texts)]
                else:
                    last_message = {
                        "content": bot_texts[(text + event) % len(bot_texts)],
                        # Each message of the conversation its own id: the event number varies the last bytes.
                        "id": uuid4_text(tail[0:12] + (int.from_bytes(tail[12:16], "big") ^ event).to_bytes(4, "big")),
                        "sender_type": "bot",
                    }
        return {
            "active": in_progress,
            "chatbot_id": self.chatbot_id,
            "created_at": timestamp_text(created_us),
            "id": uuid4_text(head[0:16]),
            "is_human_mode": in_progress and human < 13,
            "last_message": last_message,
            "metadata": metadata,
            "migrated_data": False,
            "platform": platform,
            "session_token": None,
            "sns_user_id": sns_user_id(platform, head[16:32]),
            "state": "in_progress" if in_progress else life.final,
            "updated_at": timestamp_text(updated_us),
            "user_id": user_id,
            "voice_path": voice_path,
        }
