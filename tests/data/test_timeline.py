"""A history as the clock moves: nothing changes identity or disappears, pages join up, states add up."""

import json
from datetime import datetime, timedelta

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.data.generator import ANCHOR_US, DAY_US, GeneratedHistory, Timing, timestamp_text
from conversations_mock.data.messages import SHARED_POOLS
from conversations_mock.data.states import ENDING_ORDER, IDLE, LifeLayout
from conversations_mock.schemas import STATES, ConversationSchema

IDENTITY = ("id", "chatbot_id", "created_at", "platform", "sns_user_id", "user_id", "metadata", "voice_path",
            "migrated_data", "session_token")
SCHEMA = ConversationSchema()
PROPERTY = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**63 - 1)
chatbots = st.uuids().map(str)
# Two instants, each from sixty days before the fixed clock's to a year after it, sorted.
instants = st.integers(ANCHOR_US - 60 * DAY_US, ANCHOR_US + 365 * DAY_US)
# Idle times from a second to ten days: a help desk's, or a demo's few minutes.
idle_times = st.integers(10**6, 10 * DAY_US)
pairs = st.tuples(instants, st.integers(0, 30 * DAY_US)).map(lambda p: (p[0], p[0] + p[1]))


def _everything(history, at):
    return history.page(None, 0, 10**6, at)


@PROPERTY
@given(seeds, chatbots, st.integers(0, 150), pairs)
def test_identity_never_changes_and_nothing_disappears(seed, chatbot_id, count, pair):
    earlier, later = pair
    history = GeneratedHistory(chatbot_id, seed, count, SHARED_POOLS)
    before, after = _everything(history, earlier), _everything(history, later)
    assert len(after) >= len(before)
    # The same conversations, the oldest at the end; those that arrived in between on top.
    kept = after[len(after) - len(before):]
    assert [{k: c[k] for k in IDENTITY} for c in kept] == [{k: c[k] for k in IDENTITY} for c in before]
    for state in STATES:  # a conversation that ended stays ended, in the same state
        ended_before = {c["id"]: c for c in before if c["state"] == state and state != "in_progress"}
        assert all(c["state"] == state for c in kept if c["id"] in ended_before)
        assert all(c["updated_at"] == ended_before[c["id"]]["updated_at"] for c in kept if c["id"] in ended_before)
    assert history.total(None, later) >= history.total(None, earlier)


@PROPERTY
@given(seeds, chatbots, st.integers(0, 150), instants, st.sampled_from([None, *STATES]), st.integers(1, 23))
def test_walking_every_page_at_one_instant_gives_each_conversation_once_newest_first(
        seed, chatbot_id, count, at, state, page_size):
    history = GeneratedHistory(chatbot_id, seed, count, SHARED_POOLS)
    total = history.total(state, at)
    walked = []
    for offset in range(0, total + page_size, page_size):
        walked += history.page(state, offset, page_size, at)
    assert len(walked) == total == len({c["id"] for c in walked})
    assert walked == [c for c in _everything(history, at) if state is None or c["state"] == state]
    created = [datetime.fromisoformat(c["created_at"]) for c in walked]
    assert created == sorted(created, reverse=True)
    assert sum(history.total(s, at) for s in STATES) == history.total(None, at)


@PROPERTY
@given(seeds, chatbots, st.integers(1, 10**6), instants, st.integers(0, 200))
def test_lives_are_consistent_at_any_instant(seed, chatbot_id, count, at, offset):
    history = GeneratedHistory(chatbot_id, seed, count, SHARED_POOLS)
    now = datetime.fromisoformat(timestamp_text(at))
    for conversation in json.loads(orjson.dumps(history.page(None, offset, 20, at))):
        assert SCHEMA.validate(conversation) == {}
        assert datetime.fromisoformat(conversation["created_at"]) <= datetime.fromisoformat(
            conversation["updated_at"]) <= now
        assert conversation["active"] == (conversation["state"] == "in_progress")
        assert conversation["is_human_mode"] <= conversation["active"]


@settings(max_examples=15, deadline=None)
@given(seeds, chatbots, st.integers(1_000_000, 10**9), st.integers(0, 10 * 365 * DAY_US))
def test_a_huge_history_answers_a_deep_filtered_page_at_any_instant(seed, chatbot_id, count, later):
    history = GeneratedHistory(chatbot_id, seed, count, SHARED_POOLS)
    at = ANCHOR_US + later
    for state in STATES:
        total = history.total(state, at)
        offset = total // 2
        page = history.page(state, offset, 10, at)
        assert [c["state"] for c in page] == [state] * 10
        created = [datetime.fromisoformat(c["created_at"]) for c in page + history.page(state, offset + 10, 1, at)]
        assert all(a > b for a, b in zip(created, created[1:]))


def test_an_in_progress_conversation_gains_messages_then_ends():
    history = GeneratedHistory("0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11", 7, 50_000, SHARED_POOLS)
    snapshot = history.snapshot(ANCHOR_US)
    n = next(n for n in reversed(range(snapshot.arrived)) if history.lives.life(n).kind == "days"
             and snapshot.state(n, history.lives.life(n)) == "in_progress"
             and history.conversation(n)["platform"] != "voice")
    seen = [history.conversation(n, ANCHOR_US + hour * 3600 * 10**6) for hour in range(0, 24 * 4, 2)]
    updates = [c["updated_at"] for c in seen]
    assert updates == sorted(updates) and len(set(updates)) > 2
    assert len({json.dumps(c["last_message"]) for c in seen}) > 1
    assert seen[0]["state"] == "in_progress" and seen[-1]["state"] == history.lives.life(n).final


@given(st.binary(min_size=32, max_size=32), idle_times)
def test_kinds_end_in_ending_order(key, idle_us):
    # Snapshot.spans takes the stretches between kinds' ends in ENDING_ORDER: longest kind first; only
    # kinds shortened to the idle time tie.
    layout = LifeLayout(key, idle_us)
    durations = layout.durations
    assert [durations[kind] for kind in ENDING_ORDER] == sorted(durations.values(), reverse=True)
    capped = list(durations.values()).count(idle_us)
    assert len(set(durations.values()) - {idle_us}) == len(durations) - capped
    # An idle life's messages stop before the idle time runs out, and it is closed an idle time after.
    assert 0 < layout.spans[IDLE] <= idle_us and durations[IDLE] == layout.spans[IDLE] + idle_us
    assert all(durations[kind] <= idle_us for kind in ENDING_ORDER if kind != IDLE)


@PROPERTY
@given(seeds, chatbots, st.integers(1, 10**6), instants, idle_times, st.none() | st.integers(1, 10_000),
       st.sampled_from([None, "in_progress"]), st.integers(0, 300))
def test_no_conversation_stays_in_progress_longer_than_the_idle_time_after_its_last_event(
        seed, chatbot_id, count, at, idle_us, per_hour, state, offset):
    # Its last event is its updated_at: the latest message at or before the instant (or its start).
    timing = Timing(ANCHOR_US, idle_us, per_hour)
    history = GeneratedHistory(chatbot_id, seed, count, SHARED_POOLS, timing=timing)
    idle = timedelta(microseconds=idle_us)
    now = datetime.fromisoformat(timestamp_text(at))
    total = history.total(state, at)
    page = history.page(state, min(offset, max(0, total - 50)), 50, at)
    for conversation in page + history.page(state, max(0, total - 50), 50, at):  # and the oldest ones
        if conversation["state"] == "in_progress":
            assert now - datetime.fromisoformat(conversation["updated_at"]) < idle
    # Every life ends: of those that arrived an idle time and 6 h 10 min (an idle life's longest span of
    # messages) before the instant or earlier, none is in progress.
    assert history.total("in_progress", at) <= history.total(None, at) - history.total(
        None, at - idle_us - 6 * 3600 * 10**6 - 600 * 10**6)
