"""The generator's fast paths print exactly what the reference code does, and texts ignore the clock."""

import uuid
from datetime import datetime, timedelta

import faker.providers.date_time
from hypothesis import given, settings
from hypothesis import strategies as st

from app.data.generator import EPOCH, _moment
from app.data.messages import MessagePools
from app.data.platforms import ALL_LOCALES, uuid4_text
from app.data.states import BLOCK, StateLayout
from schemas import STATES, format_timestamp

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
    today = MessagePools()
    texts_today = [today.get(locale) for locale in ALL_LOCALES]

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2041, 6, 15, 13, 0, tzinfo=tz)

    # Faker reads the current moment through its date_time module's `datetime`.
    monkeypatch.setattr(faker.providers.date_time, "datetime", Later)
    later = MessagePools()
    assert [later.get(locale) for locale in ALL_LOCALES] == texts_today
