"""Property tests of the data builders: for any seed, chatbot and index, the output is a valid conversation."""

import json
from datetime import datetime

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations_mock.data.catalogue import Catalogue
from conversations_mock.data.fixtures import BUILTIN_FIXTURES
from conversations_mock.data.generator import GeneratedHistory, chatbot_key
from conversations_mock.data.states import StateLayout
from conversations_mock.schemas import STATES, ConversationSchema, PageQuery

# One catalogue for the module: hypothesis runs many examples per test, and the message pools are shared.
CATALOGUE = Catalogue([BUILTIN_FIXTURES], seed=20250307, conversations=(30, 300))
SCHEMA = ConversationSchema()
seeds = st.integers(min_value=0, max_value=2**63 - 1)
chatbots = st.uuids().map(str)
PROPERTY = settings(max_examples=100, deadline=None)


def _validated(conversation):
    """The conversation as a client reads it (JSON text), checked by the response schema."""
    as_sent = json.loads(orjson.dumps(conversation))
    errors = SCHEMA.validate(as_sent)
    assert errors == {}, (errors, as_sent)
    return as_sent


@PROPERTY
@given(seed=seeds, chatbot_id=chatbots, count=st.integers(1, 10**9), data=st.data())
def test_any_conversation_of_any_history_validates(seed, chatbot_id, count, data):
    history = GeneratedHistory(chatbot_id, seed, count, CATALOGUE.pools)
    index = data.draw(st.integers(0, count - 1), label="index")
    conversation = _validated(history.conversation(index))
    assert conversation["chatbot_id"] == chatbot_id
    assert conversation["state"] == history.layout.state_at(index)
    assert history.conversation(index) == conversation  # the same on every call


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
@given(seed=seeds, chatbot_id=chatbots, count=st.integers(0, 250), offset=st.integers(0, 260),
       limit=st.integers(1, 100))
def test_state_arithmetic_agrees_with_a_direct_count(seed, chatbot_id, count, offset, limit):
    layout = StateLayout(chatbot_key(seed, chatbot_id), count)
    states = [layout.state_at(i) for i in range(count)]
    assert layout.total(None) == count
    assert sum(layout.total(state) for state in STATES) == count
    for state in STATES:
        positions = [i for i, s in enumerate(states) if s == state]
        assert layout.total(state) == len(positions)
        assert layout.indexes(state, offset, limit) == positions[offset:offset + limit]
    assert layout.indexes(None, offset, limit) == list(range(count))[offset:offset + limit]
