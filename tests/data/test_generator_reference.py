"""The generator's fast paths print exactly what the reference code does, and texts ignore the clock."""

import hashlib
import uuid
from datetime import datetime, timedelta
from hashlib import blake2b

import faker.providers.date_time
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.data.generator import ANCHOR_US, DAY_US, EPOCH, WEEK_US, GeneratedHistory, _moment
from conversations_mock.data.messages import SHARED_POOLS, MessagePools
from conversations_mock.data.platforms import (
    ALL_LOCALES,
    PLATFORM_LOCALES,
    PLATFORM_TABLE,
    sns_user_id,
    uuid4_text,
)
from conversations_mock.data.states import BLOCK, StateLayout
from conversations_mock.schemas import STATES, format_timestamp

# From 1970 to 2100, in microseconds, with whole seconds and round fractions drawn often.
MICROSECONDS = st.one_of(
    st.integers(0, 4_102_444_800 * 10**6),
    st.integers(0, 4_102_444_800).map(lambda s: s * 10**6),
    st.integers(0, 4_102_444_800 * 10**3).map(lambda ms: ms * 10**3),
)


@given(MICROSECONDS)
def test_timestamps_match_format_timestamp(microseconds):
    assert _moment(microseconds) == format_timestamp(EPOCH + timedelta(microseconds=microseconds))


@given(st.binary(min_size=16, max_size=16))
def test_uuid4_text_matches_the_uuid_module(raw):
    assert uuid4_text(raw) == str(uuid.UUID(bytes=raw, version=4))


@settings(max_examples=30)
@given(st.binary(min_size=8, max_size=8), st.integers(1, 7 * BLOCK + 3), st.sampled_from(STATES))
def test_state_positions_match_a_scan(key, count, state):
    layout = StateLayout(key, count)
    scanned = [i for i in range(count) if layout.state_at(i) == state]
    assert layout.total(state) == len(scanned)
    for offset in range(0, len(scanned) + 1, 3):
        assert layout.indexes(state, offset, 7) == scanned[offset : offset + 7]


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


# sha256 of every message pool and 24 pages of 100 (two histories, every state, first/middle/last):
# a faster path prints the same bytes. Pinned before the speed-ups of the third and fourth rounds
# (b77f5669...), then again when text conversations' durations were fixed to reach hours and days.
PINNED_DIGEST = "733dfcc8feef72e702b7b6e87fe28a55c8be20a4c733d9e56858e0931cd04513"


def test_generated_bytes_match_the_pinned_digest():
    pools = MessagePools(shipped=None)  # Faker's own texts; the shipped file is held to them below
    digest = hashlib.sha256()
    for locale in ALL_LOCALES:
        digest.update(orjson.dumps(pools.get(locale)))
    for seed, chatbot, count in ((0, "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99", 1_000_000),
                                 (7, "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11", 50)):
        history = GeneratedHistory(chatbot, seed, count, pools)
        for state in (None, *STATES):
            total = history.total(state)
            for offset in (0, total // 2, max(0, total - 100)):
                digest.update(orjson.dumps([total, history.page(state, offset, 100)]))
    assert digest.hexdigest() == PINNED_DIGEST



def _reference_state(key, index):
    """The state of conversation `index`, each hash keyed afresh and the block shuffled in full."""
    mix = blake2b(b"states", key=key, digest_size=2).digest()
    in_progress, resolved = 2 + mix[0] % 4, 1 + mix[1] % 4
    states = ["in_progress"] * in_progress + ["resolved"] * resolved + ["closed"] * (BLOCK - in_progress - resolved)
    number = (index // BLOCK).to_bytes(8, "big")
    randomness = blake2b(number, key=key, digest_size=BLOCK, person=b"block").digest()
    for top in range(BLOCK - 1, 0, -1):
        other = randomness[top] % (top + 1)
        states[top], states[other] = states[other], states[top]
    return states[index % BLOCK]


def _reference_conversation(seed, chatbot_id, count, index):
    """Conversation `index` as the generator printed it before its fast paths: hashlib, uuid, datetime."""
    key = blake2b(f"{seed}:{chatbot_id}".encode(), digest_size=32, person=b"chatbot").digest()
    timeline = blake2b(b"timeline", key=key, digest_size=8).digest()
    slot = max(1000, (30 + timeline[0] % 90) * DAY_US // max(count, 1))
    at = index.to_bytes(8, "big")
    head = blake2b(at, key=key, digest_size=64).digest()
    tail = blake2b(at, key=key, digest_size=32, person=b"more").digest()
    platform = PLATFORM_TABLE[int.from_bytes(head[32:34], "big") % len(PLATFORM_TABLE)]
    state = _reference_state(key, index)
    created = (ANCHOR_US - int.from_bytes(timeline[1:5], "big") % WEEK_US
               - index * slot - int.from_bytes(head[34:38], "big") % slot)
    number = int.from_bytes(head[38:42], "big")
    if platform == "voice":
        duration = 1_000_000 + number % 4_000_000
    else:
        span = 30 * 60 * 10**6 if number % 10 < 5 else 6 * 3600 * 10**6 if number % 10 < 8 else 3 * DAY_US
        duration = number * span // 2**32

    def moment(microseconds):
        return format_timestamp(EPOCH + timedelta(microseconds=microseconds))

    def uuid4(raw):
        return str(uuid.UUID(bytes=raw, version=4))

    conversation = {
        "active": state == "in_progress", "chatbot_id": chatbot_id, "created_at": moment(created),
        "id": uuid4(head[:16]), "is_human_mode": state == "in_progress" and head[46] < 13,
        "last_message": None, "metadata": {"type": "voice_chat"}, "migrated_data": False, "platform": platform,
        "session_token": None, "sns_user_id": sns_user_id(platform, head[16:32]), "state": state,
        "updated_at": moment(created + duration), "user_id": None, "voice_path": None,
    }
    if platform == "voice":
        conversation["voice_path"] = f"conversation-voice_assistant_room_{1000 + int.from_bytes(head[47:49], 'big') % 9000}.ogg"
        return conversation
    conversation["metadata"] = {"anonymous": head[42] < 218}
    if head[42] >= 218:
        conversation["user_id"] = uuid4(tail[16:32])
    shape = head[43] % 20
    if shape >= 2:
        locales = PLATFORM_LOCALES[platform]
        user_texts, bot_texts = SHARED_POOLS.get(locales[head[44] % len(locales)])
        conversation["last_message"] = user_texts[head[45] % len(user_texts)] if shape < 11 else {
            "content": bot_texts[head[45] % len(bot_texts)], "id": uuid4(tail[:16]), "sender_type": "bot"}
    return conversation


seeds = st.integers(0, 2**63 - 1)
chatbots = st.uuids().map(str)


@settings(max_examples=150, deadline=None)
@given(seeds, chatbots, st.integers(1, 10**9), st.data())
def test_any_conversation_prints_what_the_reference_builder_does(seed, chatbot_id, count, data):
    index = data.draw(st.integers(0, count - 1), label="index")
    history = GeneratedHistory(chatbot_id, seed, count, SHARED_POOLS)
    expected = orjson.dumps(_reference_conversation(seed, chatbot_id, count, index))
    assert orjson.dumps(history.conversation(index)) == expected
    assert orjson.dumps(history.conversation(index, history.layout.state_at(index))) == expected


@settings(max_examples=40, deadline=None)
@given(seeds, chatbots, st.integers(0, 120), st.sampled_from([None, *STATES]), st.integers(0, 125), st.integers(1, 30))
def test_any_page_prints_what_the_reference_builder_does(seed, chatbot_id, count, state, offset, limit):
    history = GeneratedHistory(chatbot_id, seed, count, SHARED_POOLS)
    everything = [_reference_conversation(seed, chatbot_id, count, i) for i in range(count)]
    matching = [c for c in everything if state is None or c["state"] == state]
    assert history.total(state) == len(matching)
    assert orjson.dumps(history.page(state, offset, limit)) == orjson.dumps(matching[offset : offset + limit])


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
