"""Generated histories: a chatbot's conversation n computed from (seed, chatbot, n, instant) alone.

Conversations are numbered by arrival (0 the oldest), so what makes one conversation (its id,
user, platform, start, ...) never changes as the clock moves; only its life (state, last message,
updated_at) depends on the instant. Nothing here builds, sorts or scans a whole history, so a
chatbot with a million conversations costs what one with fifty does, at any instant, and every
worker, run and machine computes the same values.
"""

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from hashlib import blake2b
from weakref import WeakKeyDictionary

from conversations_mock.data.arrivals import Arrivals
from conversations_mock.data.compiled import compiled
from conversations_mock.data.messages import MessagePools
from conversations_mock.data.platforms import (
    PLATFORM_LOCALES,
    SNS_USER_IDS,
    TEXT_PLATFORM_TABLE,
    uuid4_hex,
)
from conversations_mock.data.states import BLOCK, IDLE_CLOSE_US, VOICE, LifeLayout
from conversations_mock.data.timeline import Snapshot
from conversations_mock.schemas.clock import EPOCH

# The `fixed` clock's instant: a generated chatbot's configured count of conversations have arrived by then.
ANCHOR_US = int((datetime(2025, 3, 7, 6, 0, tzinfo=timezone.utc) - EPOCH).total_seconds()) * 10**6
DAY_US = 24 * 3600 * 10**6


@dataclass(frozen=True)
class Timing:
    """When a generated history's conversations come and go, the same for every chatbot of a server.

    :param anchor_us: the instant by which a chatbot's count of conversations have arrived (data/clock.py
        Clock.anchor_us: the clock's start, or under `now` the start of its day)
    :param idle_us: how long a conversation goes without a message before it is closed
    :param per_hour: conversations an hour, on average over a day; None: a chatbot's count over 30 to 119 days
    """

    anchor_us: int = ANCHOR_US
    idle_us: int = IDLE_CLOSE_US
    per_hour: int | None = None


def chatbot_key(seed: int, chatbot_id: str) -> bytes:
    """The 32-byte key every value of this chatbot's generated history derives from."""
    return blake2b(f"{seed}:{chatbot_id}".encode(), digest_size=32, person=b"chatbot").digest()


def generated_count(key: bytes, low: int, high: int) -> int:
    """How many conversations a chatbot has, drawn from low..high by its key."""
    draw = int.from_bytes(blake2b(b"count", key=key, digest_size=8).digest(), "big")
    return low + draw % (high - low + 1)


_DAYS = {}  # day since the epoch -> "YYYY-MM-DDT": a history spans a few months of days


def _day_text(day: int) -> str:
    """"YYYY-MM-DDT" of a day since the epoch, remembered in _DAYS (a dict read: lru_cache's call costs more)."""
    if len(_DAYS) >= 4096:
        _DAYS.clear()
    text = _DAYS[day] = f"{(EPOCH + timedelta(days=day)).date().isoformat()}T"
    return text


_CLOCK = tuple(f"{minute // 60:02d}:{minute % 60:02d}:" for minute in range(1440))  # "HH:MM:" of a day's minutes
_SECONDS = tuple(f"{second:02d}." for second in range(60))  # "SS.", the dot of the fraction that follows


@compiled
def timestamp_text(microseconds: int) -> str:
    """format_timestamp(EPOCH + microseconds), by integer arithmetic and small tables."""
    day, rest = divmod(microseconds, DAY_US)
    minute, rest = divmod(rest, 60 * 10**6)
    second, fraction = divmod(rest, 10**6)
    # The API prints microseconds without trailing zeros, and none at all on a whole second;
    # str(10**6 + fraction)[1:] pads to six digits at a third of the cost of a format spec.
    if fraction % 10:
        return (f"{_DAYS.get(day) or _day_text(day)}{_CLOCK[minute]}{_SECONDS[second]}"
                f"{str(10**6 + fraction)[1:]}+00:00")
    date = _DAYS.get(day) or _day_text(day)
    if fraction:
        return f"{date}{_CLOCK[minute]}{_SECONDS[second]}{str(10**6 + fraction)[1:].rstrip('0')}+00:00"
    return f"{date}{_CLOCK[minute]}{_SECONDS[second][:2]}+00:00"


# Bytes 32..48 of a conversation's first digest, read in one call: platform, its point in its arrival
# slot, four spare bytes, signed in, message shape, language, text, human mode, voice room or message count.
_FIELDS = struct.Struct(">HIIBBBBBH")
# Snapshots a history keeps: the instants of a page walk and of a running clock's last seconds.
_SNAPSHOTS = 8


_ROWS = WeakKeyDictionary()  # pools -> the rows of TEXT_PLATFORM_TABLE as text_rows makes them


def text_rows(pools: MessagePools) -> tuple:
    """TEXT_PLATFORM_TABLE's rows as a page builder reads them: (platform, its users' ids, its
    (user_texts, bot_texts) for each value of a language byte), so a conversation indexes where it would
    look up; made once per pools (each platform's texts once), so a history costs no more to start."""
    rows = _ROWS.get(pools)
    if rows is None:
        read = {platform: (SNS_USER_IDS[platform], pools.by_language(PLATFORM_LOCALES[platform]))
                for platform in set(TEXT_PLATFORM_TABLE)}
        rows = _ROWS[pools] = tuple((platform, *read[platform]) for platform in TEXT_PLATFORM_TABLE)
    return rows


def _slot_draw(head):
    """n -> arrival n's point in its slot: bytes 34..38 of its first digest (`head` is the keyed hasher)."""

    def draw(n: int) -> int:
        hasher = head.copy()
        hasher.update(n.to_bytes(8, "big"))
        return int.from_bytes(hasher.digest()[34:38], "big")

    return draw


class GeneratedHistory:
    """A chatbot's conversations at any instant, newest first, each computed on demand."""

    def __init__(self, chatbot_id: str, seed: int, count: int, pools: MessagePools, key: bytes | None = None,
                 timing: Timing = Timing()):
        """`key` is chatbot_key(seed, chatbot_id), where the caller has computed it already; `count`
        conversations have arrived by `timing.anchor_us`."""
        self.chatbot_id = chatbot_id
        self.key = chatbot_key(seed, chatbot_id) if key is None else key
        self.lives = LifeLayout(self.key, timing.idle_us)
        self._spans, self._durations = self.lives.spans, self.lives.durations
        self._text_platforms = text_rows(pools)
        # Keyed hashers with the key absorbed, copied per conversation: the same digests as
        # blake2b(n, key=...) each time, without setting the key up again.
        self._head = blake2b(key=self.key, digest_size=64)
        self._tail = blake2b(key=self.key, digest_size=32, person=b"more")
        # Not a bound method of self: a cycle would keep every history the cache lets go of until the
        # collector's oldest generation walks the heap (tens of ms under a stream of new chatbots).
        self.arrivals = Arrivals(self.key, count, timing.anchor_us, _slot_draw(self._head), timing.per_hour)
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
        return self._build(snapshot.positions(state, offset, limit), snapshot.at)

    def conversation(self, n: int, at: int | None = None) -> dict:
        """Arrival n (0 the oldest) as the API prints it at `at`; it must have arrived by then."""
        snapshot = self.snapshot(at)
        if not 0 <= n < snapshot.arrived:
            raise IndexError(f"conversation {n} has not arrived at that instant")
        return self._build([n], snapshot.at)[0]

    def _build(self, numbers: list, at: int) -> list:
        """Arrivals `numbers` (each arrived by instant `at`) as the API prints them, in that order."""
        # One loop for a page, what it reads bound to locals once: a page is built ten or a hundred
        # conversations at a time, and a call and an attribute lookup per conversation add up.
        head_copy, tail_copy, moment = self._head.copy, self._tail.copy, self.arrivals.moment
        block_of = self.lives.block
        spans, durations, chatbot_id = self._spans, self._durations, self.chatbot_id
        unpack_from, text_platforms, stamp = _FIELDS.unpack_from, self._text_platforms, timestamp_text
        lives, last_block = None, -1
        built = []
        for n in numbers:
            number = n.to_bytes(8, "big")
            hasher = head_copy()
            hasher.update(number)
            head = hasher.digest()
            hexed = head.hex()  # the id and some users' ids are hex digits of it: one call for all
            pick, draw, _, signed_in, shape, language, text, human, room = unpack_from(head, 32)
            created_us = moment(n, draw)
            if n // BLOCK != last_block:  # a page's arrivals are consecutive, or at least ordered: few blocks
                last_block = n // BLOCK
                lives = block_of(last_block)
            life = lives[n % BLOCK]
            kind = life.kind
            span = spans[kind]  # messages come during it; an idle life's stop, and it waits to be closed
            user_id = last_message = voice_path = None
            if kind == VOICE:  # a block's one voice call gives voice its tenth of the platforms
                platform, events, sns_user_id = "voice", 1, None
                metadata = {"type": "voice_chat"}
                voice_path = f"conversation-voice_assistant_room_{1000 + room % 9000}.ogg"
            else:
                platform, user_of, texts_of = text_platforms[pick % len(text_platforms)]
                sns_user_id = user_of(head[16:32], hexed[32:64])
                events = 2 + room % 7
            ends_us = created_us + durations[kind]
            # Ended exactly when Snapshot.ended counts it (arrival moments increase), read without those counts.
            in_progress = ends_us > at
            # Messages come every `gap` from the start; an ended conversation was last updated when it ended.
            if in_progress:  # (`or 1` and the test rather than max() and min(): two calls fewer)
                gap = span // events or 1
                event = (at - created_us) // gap
                if event > events:
                    event = events
                updated_us = created_us + event * gap
            else:
                event, updated_us = events, ends_us
            if platform != "voice":
                anonymous = signed_in < 218  # about 85% of users never sign in, as in the document
                metadata = {"anonymous": anonymous}
                shape %= 20  # 2 in 20 conversations show no message; the others the user's and the bot's in turn
                bot = shape >= 2 and event % 2 == 1
                if not anonymous or bot:  # a second digest holds the user's and the messages' ids
                    hasher = tail_copy()
                    hasher.update(number)
                    tail = hasher.hexdigest()
                    if not anonymous:
                        user_id = uuid4_hex(tail[32:64])
                if shape >= 2:
                    user_texts, bot_texts = texts_of[language]
                    if not bot:
                        last_message = user_texts[(text + event) % len(user_texts)]
                    else:
                        # Each message of the conversation its own id: the event number varies its last bytes.
                        last_message = {
                            "content": bot_texts[(text + event) % len(bot_texts)],
                            "id": uuid4_hex(f"{tail[:24]}{int(tail[24:32], 16) ^ event:08x}"),
                            "sender_type": "bot",
                        }
            built.append({
                "active": in_progress,
                "chatbot_id": chatbot_id,
                "created_at": stamp(created_us),
                "id": uuid4_hex(hexed),  # its first 16 bytes
                "is_human_mode": in_progress and human < 13,
                "last_message": last_message,
                "metadata": metadata,
                "migrated_data": False,
                "platform": platform,
                "session_token": None,
                "sns_user_id": sns_user_id,
                "state": "in_progress" if in_progress else life.final,
                "updated_at": stamp(updated_us),
                "user_id": user_id,
                "voice_path": voice_path,
            })
        return built
