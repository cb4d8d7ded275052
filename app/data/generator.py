"""Generated histories: conversation i of a chatbot computed from (seed, chatbot, i) alone.

Nothing here builds, sorts or scans a whole history, so a chatbot with a million conversations
costs what one with fifty does, and every worker, run and machine computes the same values.
"""

import struct
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from hashlib import blake2b

from conversations_mock.data.messages import MessagePools
from conversations_mock.data.platforms import PLATFORM_LOCALES, PLATFORM_TABLE, sns_user_id, uuid4_text
from conversations_mock.data.states import StateLayout

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The newest generated conversation falls in the week before the document's newest example.
ANCHOR_US = int((datetime(2025, 3, 7, 6, 0, tzinfo=timezone.utc) - EPOCH).total_seconds()) * 10**6
WEEK_US = 7 * 24 * 3600 * 10**6
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


def _moment(microseconds: int) -> str:
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


# Bytes 32..48 of a conversation's first digest, read in one call: platform, created_at jitter,
# duration, signed in, message shape, language, text, human mode, voice room.
_FIELDS = struct.Struct(">HIIBBBBBH")
# How long after its start a text conversation was last updated, by a tenth of its duration draw:
# half within half an hour, three in ten within six hours, the rest within three days.
_SPANS_US = (30 * 60 * 10**6,) * 5 + (6 * 3600 * 10**6,) * 3 + (3 * DAY_US,) * 2


class GeneratedHistory:
    """A chatbot's conversations, newest first, each computed on demand."""

    def __init__(self, chatbot_id: str, seed: int, count: int, pools: MessagePools):
        self.chatbot_id = chatbot_id
        self.key = chatbot_key(seed, chatbot_id)
        self.layout = StateLayout(self.key, count)
        self._pools = pools
        timeline = blake2b(b"timeline", key=self.key, digest_size=8).digest()
        span_us = (30 + timeline[0] % 90) * DAY_US
        self._newest_us = ANCHOR_US - int.from_bytes(timeline[1:5], "big") % WEEK_US
        # Equal slots, one conversation somewhere in each, keep newest-first strict at any size.
        self._slot_us = max(1000, span_us // max(count, 1))
        # Keyed hashers with the key absorbed, copied per conversation: the same digests as
        # blake2b(index, key=...) each time, without setting the key up again.
        self._head = blake2b(key=self.key, digest_size=64)
        self._tail = blake2b(key=self.key, digest_size=32, person=b"more")

    def total(self, state: str | None = None) -> int:
        """How many conversations match the state filter (None: all)."""
        return self.layout.total(state)

    def page(self, state: str | None, offset: int, limit: int) -> list:
        """Conversations offset..offset+limit-1 among those matching the state filter."""
        conversation = self.conversation
        if state is None:
            return [conversation(i, s) for i, s in enumerate(self.layout.states(offset, limit), offset)]
        return [conversation(i, state) for i in self.layout.indexes(state, offset, limit)]

    def conversation(self, index: int, state: str | None = None) -> dict:
        """Conversation `index` (0 is the newest), as the API prints it; `state` if the caller knows it."""
        at = index.to_bytes(8, "big")
        hasher = self._head.copy()
        hasher.update(at)
        head = hasher.digest()
        pick, jitter, length, signed_in, shape, language, text, human, room = _FIELDS.unpack_from(head, 32)
        platform = PLATFORM_TABLE[pick % len(PLATFORM_TABLE)]
        if state is None:
            state = self.layout.state_at(index)
        slot = self._slot_us
        created_us = self._newest_us - index * slot - jitter % slot
        user_id = last_message = voice_path = None
        if platform == "voice":
            updated_us = created_us + 1_000_000 + length % 4_000_000
            metadata = {"type": "voice_chat"}
            voice_path = f"conversation-voice_assistant_room_{1000 + room % 9000}.ogg"
        else:
            # Scaled, not reduced modulo the span: four bytes are ~72 minutes of microseconds, so
            # `length % span` never reached the six-hour and three-day spans.
            updated_us = created_us + (length * _SPANS_US[length % 10] >> 32)
            anonymous = signed_in < 218  # about 85% of users never sign in, as in the document
            metadata = {"anonymous": anonymous}
            shape %= 20  # no message 2 in 20, the user's text 9 in 20, the bot's message 9 in 20
            if not anonymous or shape >= 11:  # a second digest holds the user's and the message's ids
                hasher = self._tail.copy()
                hasher.update(at)
                tail = hasher.digest()
                if not anonymous:
                    user_id = uuid4_text(tail[16:32])
            if shape >= 2:
                locales = PLATFORM_LOCALES[platform]
                user_texts, bot_texts = self._pools.get(locales[language % len(locales)])
                if shape < 11:
                    last_message = user_texts[text % len(user_texts)]
                else:
                    last_message = {
                        "content": bot_texts[text % len(bot_texts)],
                        "id": uuid4_text(tail[0:16]),
                        "sender_type": "bot",
                    }
        return {
            "active": state == "in_progress",
            "chatbot_id": self.chatbot_id,
            "created_at": _moment(created_us),
            "id": uuid4_text(head[0:16]),
            "is_human_mode": state == "in_progress" and human < 13,
            "last_message": last_message,
            "metadata": metadata,
            "migrated_data": False,
            "platform": platform,
            "session_token": None,
            "sns_user_id": sns_user_id(platform, head[16:32]),
            "state": state,
            "updated_at": _moment(updated_us),
            "user_id": user_id,
            "voice_path": voice_path,
        }
