"""Generated histories: conversation i of a chatbot computed from (seed, chatbot, i) alone.

Nothing here builds, sorts or scans a whole history, so a chatbot with a million conversations
costs what one with fifty does, and every worker, run and machine computes the same values.
"""

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from hashlib import blake2b

from app.data.messages import MessagePools
from app.data.platforms import PLATFORM_LOCALES, PLATFORM_TABLE, sns_user_id, uuid4_text
from app.data.states import BLOCK, StateLayout

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
    return (EPOCH + timedelta(days=day)).date().isoformat()


@lru_cache(maxsize=4096)
def _minute_text(minute: int) -> str:
    """"YYYY-MM-DDTHH:MM:" of a minute since the epoch (a page's conversations share a few)."""
    day, minute = divmod(minute, 1440)
    return f"{_day_text(day)}T{minute // 60:02d}:{minute % 60:02d}:"


def _moment(microseconds: int) -> str:
    """format_timestamp(EPOCH + microseconds), by integer arithmetic and three small tables."""
    minute, rest = divmod(microseconds, 60 * 10**6)
    seconds, fraction = divmod(rest, 10**6)
    # The API prints microseconds without trailing zeros, and none at all on a whole second.
    if fraction:
        if fraction % 10:
            return f"{_minute_text(minute)}{_SECONDS[seconds]}.{fraction:06d}+00:00"
        return f"{_minute_text(minute)}{_SECONDS[seconds]}.{f'{fraction:06d}'.rstrip('0')}+00:00"
    return f"{_minute_text(minute)}{_SECONDS[seconds]}+00:00"


_SECONDS = tuple(f"{second:02d}" for second in range(60))


def _duration(platform: str, raw: bytes) -> int:
    """How long after its start a conversation was last updated, in microseconds."""
    number = int.from_bytes(raw, "big")
    if platform == "voice":
        return 1_000_000 + number % 4_000_000
    scale = number % 10
    if scale < 5:
        return number % (30 * 60 * 10**6)
    if scale < 8:
        return number % (6 * 3600 * 10**6)
    return number % (3 * DAY_US)


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
        # blake2b(index, key=...) each time, without setting the key up again (~0.2 us a hash).
        self._head = blake2b(key=self.key, digest_size=64)
        self._tail = blake2b(key=self.key, digest_size=32, person=b"more")

    def total(self, state: str | None = None) -> int:
        """How many conversations match the state filter (None: all)."""
        return self.layout.total(state)

    def page(self, state: str | None, offset: int, limit: int) -> list:
        """Conversations offset..offset+limit-1 among those matching the state filter."""
        layout, blocks, found = self.layout, {}, []
        for i in layout.indexes(state, offset, limit):
            number = i // BLOCK  # a page spans a block or two: look each up once
            block = blocks.get(number) or blocks.setdefault(number, layout.block(number))
            found.append(self.conversation(i, block[i % BLOCK]))
        return found

    def conversation(self, index: int, state: str | None = None) -> dict:
        """Conversation `index` (0 is the newest), as the API prints it; `state` if the caller knows it."""
        at = index.to_bytes(8, "big")
        hasher = self._head.copy()
        hasher.update(at)
        head = hasher.digest()
        platform = PLATFORM_TABLE[(head[32] << 8 | head[33]) % len(PLATFORM_TABLE)]
        if state is None:
            state = self.layout.state_at(index)
        slot = self._slot_us
        created_us = self._newest_us - index * slot - int.from_bytes(head[34:38], "big") % slot
        updated_us = created_us + _duration(platform, head[38:42])
        anonymous = head[42] < 218  # about 85% of users never sign in, as in the document
        user_id = None
        last_message = None
        if platform == "voice":
            metadata = {"type": "voice_chat"}
            voice_path = f"conversation-voice_assistant_room_{1000 + int.from_bytes(head[47:49], 'big') % 9000}.ogg"
        else:
            metadata = {"anonymous": anonymous}
            voice_path = None
            tail = None
            if not anonymous:
                tail = self._tail_of(at)
                user_id = uuid4_text(tail[16:32])
            last_message = self._last_message(platform, head, at, tail)
        return {
            "active": state == "in_progress",
            "chatbot_id": self.chatbot_id,
            "created_at": _moment(created_us),
            "id": uuid4_text(head[0:16]),
            "is_human_mode": state == "in_progress" and head[46] < 13,
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

    def _tail_of(self, at):
        """The conversation's second digest (user and message ids), from its index bytes."""
        hasher = self._tail.copy()
        hasher.update(at)
        return hasher.digest()

    def _last_message(self, platform, head, at, tail):
        """None, the user's last text, or the bot's last message, in the user's language."""
        shape = head[43] % 20
        if shape < 2:
            return None
        locales = PLATFORM_LOCALES[platform]
        user_texts, bot_texts = self._pools.get(locales[head[44] % len(locales)])
        if shape < 11:
            return user_texts[head[45] % len(user_texts)]
        if tail is None:
            tail = self._tail_of(at)
        return {
            "content": bot_texts[head[45] % len(bot_texts)],
            "id": uuid4_text(tail[0:16]),
            "sender_type": "bot",
        }
