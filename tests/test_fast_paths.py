"""The generator's fast paths print exactly what the reference code does, and texts ignore the clock."""

import hashlib
import uuid
from datetime import datetime, timedelta

import faker.providers.date_time
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.data.generator import EPOCH, GeneratedHistory, _moment
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


# sha256 of every message pool and 24 pages of 100 (two histories, every state, first/middle/last),
# as printed before the generator's speed-ups of the third round: a faster path prints the same bytes.
PINNED_DIGEST = "b77f5669aad49f9dbade3e489644752586914e76877d3cdec9c09ec725ce54ef"


def test_generated_bytes_match_the_pinned_digest():
    pools = MessagePools()
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
