"""Property tests of the data builders: for any seed, chatbot and index, the output is a valid conversation."""

import json
from datetime import datetime

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.data.catalogue import Catalogue
from conversations_mock.data.fixtures import BUILTIN_FIXTURES
from conversations_mock.data.generator import ANCHOR_US, DAY_US, GeneratedHistory, timestamp_text
from conversations_mock.schemas import STATES, ConversationSchema, PageQuery

# One catalogue for the module: hypothesis runs many examples per test, and the message pools are shared.
CATALOGUE = Catalogue([BUILTIN_FIXTURES], seed=20250307, conversations=(30, 300))
SCHEMA = ConversationSchema()
seeds = st.integers(min_value=0, max_value=2**63 - 1)
chatbots = st.uuids().map(str)
PROPERTY = settings(max_examples=100, deadline=None)
# From two years before the fixed clock's instant to ten years after it.
instants = st.integers(ANCHOR_US - 730 * DAY_US, ANCHOR_US + 3650 * DAY_US)


def _validated(conversation):
    """The conversation as a client reads it (JSON text), checked by the response schema."""
    as_sent = json.loads(orjson.dumps(conversation))
    errors = SCHEMA.validate(as_sent)
    assert errors == {}, (errors, as_sent)
    return as_sent


@PROPERTY
@given(seed=seeds, chatbot_id=chatbots, count=st.integers(1, 10**9), at=instants, data=st.data())
def test_any_conversation_of_any_history_validates_at_any_instant(seed, chatbot_id, count, at, data):
    history = GeneratedHistory(chatbot_id, seed, count, CATALOGUE.pools)
    arrived = history.total(None, at)
    if not arrived:
        return
    n = data.draw(st.integers(0, arrived - 1), label="n")
    conversation = _validated(history.conversation(n, at))
    assert conversation["chatbot_id"] == chatbot_id
    assert datetime.fromisoformat(conversation["updated_at"]) <= datetime.fromisoformat(timestamp_text(at))
    assert history.conversation(n, at) == conversation  # the same on every call


@PROPERTY
@given(seed=seeds, chatbot_id=chatbots, page=st.integers(1, 40), page_size=st.integers(1, 100),
       state=st.sampled_from([None, *STATES]))
def test_any_served_page_validates_and_is_newest_first(seed, chatbot_id, page, page_size, state):
    total, body = CATALOGUE.page(chatbot_id, PageQuery(page, page_size, state), seed=seed)
    items = json.loads(body)
    assert len(items) == max(0, min(page_size, total - (page - 1) * page_size))
    for item in items:
        _validated(item)
        assert state is None or item["state"] == state
    created = [datetime.fromisoformat(item["created_at"]) for item in items]
    assert created == sorted(created, reverse=True) and len(set(created)) == len(created)


@PROPERTY
@given(seed=seeds, chatbot_id=chatbots, count=st.integers(0, 250), at=instants, offset=st.integers(0, 260),
       limit=st.integers(1, 100))
def test_state_arithmetic_agrees_with_a_direct_count(seed, chatbot_id, count, at, offset, limit):
    history = GeneratedHistory(chatbot_id, seed, count, CATALOGUE.pools)
    snapshot = history.snapshot(at)
    arrived = snapshot.arrived
    states = [snapshot.state(n, history.lives.life(n)) for n in range(arrived)]
    assert sum(history.total(state, at) for state in STATES) == history.total(None, at) == arrived
    for state in STATES:
        newest_first = [n for n in reversed(range(arrived)) if states[n] == state]
        assert history.total(state, at) == len(newest_first)
        assert snapshot.positions(state, offset, limit) == newest_first[offset:offset + limit]
    assert snapshot.positions(None, offset, limit) == list(reversed(range(arrived)))[offset:offset + limit]
