"""The generator's fast paths print exactly what the reference code does, and texts ignore the wall clock."""

import hashlib
import uuid
from datetime import datetime, timedelta
from fractions import Fraction
from hashlib import blake2b

import faker.providers.date_time
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.data import arrivals, generator, platforms, states
from conversations_mock.data.compiled import PYTHON
from conversations_mock.data.generator import (ANCHOR_US, DAY_US, EPOCH, GeneratedHistory, Timing,
                                               timestamp_text)
from conversations_mock.data.messages import SHARED_POOLS, MessagePools
from conversations_mock.data.platforms import (
    ALL_LOCALES,
    PLATFORM_LOCALES,
    PLATFORM_TABLE,
    PLATFORM_WEIGHTS,
    SNS_USER_IDS,
    UTC_OFFSETS,
    uuid4_hex,
)
from conversations_mock.data.states import BLOCK, LifeLayout
from conversations_mock.schemas import STATES, format_timestamp

# From 1970 to 2100, in microseconds, with whole seconds and round fractions drawn often.
MICROSECONDS = st.one_of(
    st.integers(0, 4_102_444_800 * 10**6),
    st.integers(0, 4_102_444_800).map(lambda s: s * 10**6),
    st.integers(0, 4_102_444_800 * 10**3).map(lambda ms: ms * 10**3),
)



def _sns_user_id(platform, raw):
    """The app's own user id of a platform (tests/data/test_platforms.py checks its shape); None on voice."""
    return SNS_USER_IDS[platform](raw, raw.hex()) if platform in SNS_USER_IDS else None


@given(MICROSECONDS)
def test_timestamps_match_format_timestamp(microseconds):
    assert timestamp_text(microseconds) == format_timestamp(EPOCH + timedelta(microseconds=microseconds))


@given(st.binary(min_size=16, max_size=16))
def test_uuid4_hex_matches_the_uuid_module(raw):
    assert uuid4_hex(raw.hex()) == str(uuid.UUID(bytes=raw, version=4))


@settings(max_examples=30)
@given(st.binary(min_size=8, max_size=8), st.integers(0, 7 * BLOCK + 3), st.data())
def test_life_counts_and_positions_match_a_scan(key, end, data):
    layout = LifeLayout(key)
    lives = frozenset(data.draw(st.sets(st.sampled_from(layout.lives), min_size=1), label="lives"))
    scanned = [n for n in range(end) if layout.life(n) in lives]
    assert layout.count(lives, end) == len(scanned)
    for rank in range(0, len(scanned) + 1, 3):
        assert layout.find(lives, rank, end, 7) == scanned[rank : rank + 7]


def test_message_texts_do_not_depend_on_the_clock(monkeypatch):
    today = MessagePools(shipped=None)
    texts_today = [today.get(locale) for locale in ALL_LOCALES]

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2041, 6, 15, 13, 0, tzinfo=tz)

    # Faker reads the current moment through its date_time module's `datetime`.
    monkeypatch.setattr(faker.providers.date_time, "datetime", Later)
    later = MessagePools(shipped=None)
    assert [later.get(locale) for locale in ALL_LOCALES] == texts_today


# sha256 of every message pool and 48 pages of 100 (two histories, every state, first/middle/last, at
# the fixed clock's instant and a year after it): a faster path prints the same bytes. Pinned before
# the speed-ups of the third and fourth rounds (b77f5669...), again when text conversations'
# durations were fixed to reach hours and days (733dfcc8...), again when conversations were
# numbered by arrival and given lives that follow the clock (its daily rhythm from its home locale;
# ea916c7f...), and again when every conversation came to end: open lives became idle ones, closed a
# week (the idle_close setting) after their last message.
PINNED_DIGEST = "6ddae4d78f8e803d574d649aab188a642e646e38733c2f922cb76ace4a03d135"
INSTANTS = (ANCHOR_US, ANCHOR_US + 365 * DAY_US)


@pytest.mark.parametrize("helpers", ["as installed", "python"])
def test_generated_bytes_match_the_pinned_digest(helpers, monkeypatch):
    if helpers == "python":  # the Python functions of the helpers with C twins (data/compiled.py), not the twins
        states._block.cache_clear()  # blocks shuffled by the twin until now
        for module in (generator, platforms, arrivals, states):
            for name, function in PYTHON.items():
                if hasattr(module, name):
                    monkeypatch.setattr(module, name, function)
    pools = MessagePools(shipped=None)  # Faker's own texts; the shipped file is held to them below
    digest = hashlib.sha256()
    for locale in ALL_LOCALES:
        digest.update(orjson.dumps(pools.get(locale)))
    for seed, chatbot, count in ((0, "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99", 1_000_000),
                                 (7, "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11", 50)):
        history = GeneratedHistory(chatbot, seed, count, pools)
        for at in INSTANTS:
            for state in (None, *STATES):
                total = history.total(state, at)
                for offset in (0, total // 2, max(0, total - 100)):
                    digest.update(orjson.dumps([total, history.page(state, offset, 100, at)]))
    assert digest.hexdigest() == PINNED_DIGEST


# --- the reference builder: the model written plainly, with datetime, uuid and full scans ----------

HOUR = timedelta(hours=1)
PROFILE = (10, 10, 9, 8, 7, 6, 5, 4, 3, 3, 2, 2, 2)


def _key(seed, chatbot_id):
    return blake2b(f"{seed}:{chatbot_id}".encode(), digest_size=32, person=b"chatbot").digest()


def _microseconds(moment):
    return (moment - EPOCH) // timedelta(microseconds=1)


class Reference:
    """A chatbot's history as the model describes it, each hash keyed afresh, every list built in full."""

    def __init__(self, seed, chatbot_id, count, timing=Timing()):
        self.chatbot_id, self.count = chatbot_id, count
        key = self.key = _key(seed, chatbot_id)
        timeline = blake2b(b"timeline", key=key, digest_size=8).digest()
        # Its home locale, drawn over every platform's locales weighted by the platform; its afternoon.
        homes = [locale for platform, weight in PLATFORM_WEIGHTS.items() for locale in PLATFORM_LOCALES[platform]
                 for _ in range(weight)]
        home = homes[int.from_bytes(timeline[1:3], "big") % len(homes)]
        peak = (13 + timeline[3] % 5 - UTC_OFFSETS[home]) % 24
        self.weights = [PROFILE[min(abs(hour - peak), 24 - abs(hour - peak))] for hour in range(24)]
        self.day = sum(self.weights) * 3600 * 10**6
        # A day's busy units over a day's arrivals: per_hour's, or count's over 30 to 119 days.
        per_day = 24 * timing.per_hour if timing.per_hour else Fraction(max(count, 1), 30 + timeline[0] % 90)
        self.slot = max(2 * max(self.weights), int(self.day // per_day))
        self.first = self.busy(EPOCH + timedelta(microseconds=timing.anchor_us + 1)) - count * self.slot
        mix = blake2b(b"lives", key=key, digest_size=14).digest()
        idle, resolved, turn = 1 + mix[0] % 4, 1 + mix[1] % 4, mix[2]
        kinds = ["voice"] + [("quick", "hours", "quick", "days")[i % 4] for i in range(BLOCK - 1 - idle)]
        self.composition = [("idle", "closed")] * idle + [
            (kind, "resolved" if (place - turn) % len(kinds) < resolved else "closed")
            for place, kind in enumerate(kinds)]
        draws = [int.from_bytes(mix[i:i + 2], "big") for i in (3, 5, 7, 9)]
        # How long messages come: the model's ranges, each scaled over the 16-bit draw, at most the idle time;
        # an idle life's 10 minutes to 6 hours, at most the idle time, in whole 840 us (2..8 messages
        # divide it).
        self.spans = {kind: min(span, timing.idle_us) for kind, span in {
            "voice": 1_000_000 + draws[0] * 4_000_000 // 65_536,
            "quick": (5 + draws[1] % 36) * 60 * 10**6,
            "hours": 3600 * 10**6 + draws[2] * (7 * 3600 * 10**6) // 65_536,
            "days": DAY_US + draws[3] * (2 * DAY_US) // 65_536,
            "idle": 600 * 10**6 + int.from_bytes(mix[11:13], "big") * (350 * 60 * 10**6) // 65_536,
        }.items()}
        self.spans["idle"] = max(840, self.spans["idle"] - self.spans["idle"] % 840)
        # An idle life is closed the idle time after its last message; the others end with theirs.
        self.durations = {**self.spans, "idle": self.spans["idle"] + timing.idle_us}

    def busy(self, moment):
        """Busy units before `moment`: each microsecond of hour h weighs weights[h]."""
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        units = (midnight - EPOCH).days * self.day
        for hour in range(moment.hour):
            units += self.weights[hour] * 3600 * 10**6
        return units + self.weights[moment.hour] * (_microseconds(moment) % (3600 * 10**6))

    def created(self, n):
        head = blake2b(n.to_bytes(8, "big"), key=self.key, digest_size=64).digest()
        units = self.first + n * self.slot + int.from_bytes(head[34:38], "big") * (self.slot - max(self.weights)) // 2**32
        day, rest = divmod(units, self.day)
        moment = EPOCH + timedelta(days=day)
        for hour in range(24):
            if rest < self.weights[hour] * 3600 * 10**6:
                return _microseconds(moment + hour * HOUR) + rest // self.weights[hour]
            rest -= self.weights[hour] * 3600 * 10**6
        raise AssertionError("a day's busy units ran out")

    def life(self, n):
        randomness = blake2b((n // BLOCK).to_bytes(8, "big"), key=self.key, digest_size=BLOCK, person=b"block").digest()
        lives = list(self.composition)
        for top in range(BLOCK - 1, 0, -1):
            other = randomness[top] % (top + 1)
            lives[top], lives[other] = lives[other], lives[top]
        return lives[n % BLOCK]

    def history(self, at):
        """Every conversation that has arrived at `at`, newest first."""
        arrived = []
        n = 0
        while self.count and self.created(n) <= at:
            arrived.append(self.conversation(n, at))
            n += 1
        return arrived[::-1]

    def conversation(self, n, at):
        """Arrival n at instant `at`, built with hashlib, uuid and datetime."""
        head = blake2b(n.to_bytes(8, "big"), key=self.key, digest_size=64).digest()
        tail = blake2b(n.to_bytes(8, "big"), key=self.key, digest_size=32, person=b"more").digest()
        kind, final = self.life(n)
        created = self.created(n)
        room = int.from_bytes(head[47:49], "big")
        if kind == "voice":
            platform, events = "voice", 1
        else:
            text_table = [p for p in PLATFORM_TABLE if p != "voice"]
            platform = text_table[int.from_bytes(head[32:34], "big") % len(text_table)]
            events = 2 + room % 7
        gap = max(1, self.spans[kind] // events)
        ended = created + self.durations[kind] <= at
        state = final if ended else "in_progress"
        event = events if ended else min((at - created) // gap, events)
        updated = created + self.durations[kind] if ended else created + event * gap

        def moment(microseconds):
            return format_timestamp(EPOCH + timedelta(microseconds=microseconds))

        def uuid4(raw):
            return str(uuid.UUID(bytes=raw, version=4))

        conversation = {
            "active": state == "in_progress", "chatbot_id": self.chatbot_id, "created_at": moment(created),
            "id": uuid4(head[:16]), "is_human_mode": state == "in_progress" and head[46] < 13,
            "last_message": None, "metadata": {"type": "voice_chat"}, "migrated_data": False, "platform": platform,
            "session_token": None, "sns_user_id": _sns_user_id(platform, head[16:32]), "state": state,
            "updated_at": moment(updated), "user_id": None, "voice_path": None,
        }
        if platform == "voice":
            conversation["voice_path"] = f"conversation-voice_assistant_room_{1000 + room % 9000}.ogg"
            return conversation
        conversation["metadata"] = {"anonymous": head[42] < 218}
        if head[42] >= 218:
            conversation["user_id"] = uuid4(tail[16:32])
        if head[43] % 20 >= 2:
            locales = PLATFORM_LOCALES[platform]
            user_texts, bot_texts = SHARED_POOLS.get(locales[head[44] % len(locales)])
            if event % 2 == 0:
                conversation["last_message"] = user_texts[(head[45] + event) % len(user_texts)]
            else:
                message_id = tail[:12] + (int.from_bytes(tail[12:16], "big") ^ event).to_bytes(4, "big")
                conversation["last_message"] = {
                    "content": bot_texts[(head[45] + event) % len(bot_texts)], "id": uuid4(message_id),
                    "sender_type": "bot"}
        return conversation


seeds = st.integers(0, 2**63 - 1)
chatbots = st.uuids().map(str)
# From a hundred days before the fixed clock's instant to a hundred after it.
instants = st.integers(ANCHOR_US - 100 * DAY_US, ANCHOR_US + 100 * DAY_US)
def timings(count, most_per_hour=100_000):
    """The server's timing for `count` conversations: the clock's start, an idle time from a second to ten
    days, and the count's own rate or one that spans at most ten years (as the settings allow)."""
    fewest = max(1, -(-count // (24 * 3650)))
    rates = st.none() | st.integers(fewest, max(fewest, most_per_hour))
    return st.one_of(st.just(Timing()), st.builds(
        Timing, st.integers(ANCHOR_US - 10 * DAY_US, ANCHOR_US + 10 * DAY_US),
        st.integers(10**6, 10 * DAY_US), rates))



@settings(max_examples=150, deadline=None)
@given(seeds, chatbots, st.integers(1, 10**9), st.data())
def test_any_conversation_prints_what_the_reference_builder_does(seed, chatbot_id, count, data):
    timing = data.draw(timings(count), label="timing")
    history = GeneratedHistory(chatbot_id, seed, count, SHARED_POOLS, timing=timing)
    at = data.draw(instants, label="at")
    arrived = history.total(None, at)
    if arrived:
        n = data.draw(st.integers(0, arrived - 1), label="n")
        reference = Reference(seed, chatbot_id, count, timing)
        assert reference.created(n) <= at and (n + 1 == arrived) <= (reference.created(n + 1) > at)
        assert orjson.dumps(history.conversation(n, at)) == orjson.dumps(reference.conversation(n, at))


@settings(max_examples=40, deadline=None)
@given(seeds, chatbots, st.integers(0, 120), instants, st.sampled_from([None, *STATES]), st.integers(0, 125),
       st.integers(1, 30), timings(120, 2))  # the reference builds every arrival
def test_any_page_prints_what_the_reference_builder_does(seed, chatbot_id, count, at, state, offset, limit,
                                                         timing):
    history = GeneratedHistory(chatbot_id, seed, count, SHARED_POOLS, timing=timing)
    everything = Reference(seed, chatbot_id, count, timing).history(at)
    matching = [c for c in everything if state is None or c["state"] == state]
    assert history.total(state, at) == len(matching)
    assert orjson.dumps(history.page(state, offset, limit, at)) == orjson.dumps(matching[offset : offset + limit])


GENERATED = "/chatbots/0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11/conversations"


@pytest.mark.parametrize("page", ["0", "abc", "+2", "2147483648", "", "1.5"])
def test_a_bad_page_is_refused_alike_after_its_other_parameters_were_admitted(make_app, get, api_key, page):
    """The admission memo checks only the page of a query whose other parameters it has admitted."""
    fresh = make_app().test_client().get(
        f"{GENERATED}?page={page}&state=resolved&page_size=5", headers={"X-API-Key": api_key})
    for known in ("1", "2", "7"):  # page_size and state admitted, then remembered
        assert get(f"{GENERATED}?page={known}&state=resolved&page_size=5").status_code == 200
    answer = get(f"{GENERATED}?page={page}&state=resolved&page_size=5")
    assert (answer.status_code, answer.json) == (fresh.status_code, fresh.json) == (422, fresh.json)
    walked = get(f"{GENERATED}?page=3&state=resolved&page_size=5")
    assert walked.get_json() == make_app().test_client().get(
        f"{GENERATED}?page=3&state=resolved&page_size=5", headers={"X-API-Key": api_key}).get_json()
