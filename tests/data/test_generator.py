"""Generated conversations follow the document's per-platform rules, over thousands of them."""

import gc
import json
import re
import unicodedata
import weakref
from collections import Counter
from datetime import datetime, timedelta

import pytest

from conversations_mock.schemas import ConversationSchema, PageQuery
from tests.helpers import API_KEY

CHATBOTS = [
    "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11",
    "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99",
    "00000000-0000-4000-8000-000000000000",
]
PER_CHATBOT = 1500
PLATFORMS = {"web", "whatsapp", "line", "voice", "instagram", "facebook-messenger", "navertalktalk"}
FIELDS = ["active", "chatbot_id", "created_at", "id", "is_human_mode", "last_message", "metadata",
          "migrated_data", "platform", "session_token", "sns_user_id", "state", "updated_at", "user_id",
          "voice_path"]
# Written out here, apart from the schemas, so a wrong pattern there cannot hide a wrong id here.
SNS_USER_IDS = {
    "web": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    "whatsapp": r"[1-9][0-9]{7,14}",
    "line": r"U[0-9a-f]{32}",
    "instagram": r"[1-9][0-9]{15}",
    "facebook-messenger": r"[1-9][0-9]{15}",
    "navertalktalk": r"[A-Za-z0-9_-]{22}",
}
UUID4 = re.compile(SNS_USER_IDS["web"])
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,5}[1-9])?\+00:00")
VOICE_PATH = re.compile(r"conversation-voice_assistant_room_\d+\.ogg")


def _scripts(text):
    """The Unicode scripts of a text's letters, by the first word of their character names."""
    found = set()
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            found.add("CJK" if name.startswith("CJK") else name.split(" ")[0])
    return found


@pytest.fixture(scope="module")
def conversations():
    """PER_CHATBOT conversations of each of several chatbots, fetched page by page over HTTP."""
    from conversations_mock import create_app

    client = create_app({"conversations": str(PER_CHATBOT)}).test_client()
    result = []
    for chatbot in CHATBOTS:
        for page in range(1, PER_CHATBOT // 100 + 1):
            response = client.get(f"/chatbots/{chatbot}/conversations?page={page}&page_size=100",
                                  headers={"X-API-Key": API_KEY})
            assert response.status_code == 200
            result.extend(json.loads(response.data))
    assert len(result) == PER_CHATBOT * len(CHATBOTS)
    return result


def _text(conversation):
    message = conversation["last_message"]
    return message["content"] if isinstance(message, dict) else message


def test_every_conversation_validates_with_the_schema(conversations):
    schema = ConversationSchema()
    for conversation in conversations:
        assert schema.validate(conversation) == {}, conversation
        assert list(conversation) == FIELDS
        # What the schema loads, it prints back exactly as served.
        assert schema.dump(schema.load(conversation)) == conversation


def test_every_platform_state_and_message_shape_appears(conversations):
    assert {c["platform"] for c in conversations} == PLATFORMS
    assert {c["state"] for c in conversations} == {"in_progress", "resolved", "closed"}
    shapes = Counter(type(c["last_message"]).__name__ for c in conversations if c["platform"] != "voice")
    assert set(shapes) == {"NoneType", "str", "dict"}
    assert {c["metadata"].get("anonymous") for c in conversations if c["platform"] != "voice"} == {True, False}
    assert {c["is_human_mode"] for c in conversations} == {True, False}
    # No platform crowds out the others.
    counts = Counter(c["platform"] for c in conversations)
    assert min(counts.values()) > len(conversations) // 50


def test_ids_are_unique_uuid4s(conversations):
    ids = [c["id"] for c in conversations]
    assert len(set(ids)) == len(ids)
    assert all(UUID4.fullmatch(i) for i in ids)
    message_ids = [c["last_message"]["id"] for c in conversations if isinstance(c["last_message"], dict)]
    assert len(set(message_ids)) == len(message_ids) and all(UUID4.fullmatch(i) for i in message_ids)
    user_ids = [c["user_id"] for c in conversations if c["user_id"] is not None]
    assert all(UUID4.fullmatch(i) for i in user_ids)


@pytest.mark.parametrize("platform", sorted(PLATFORMS - {"voice"}))
def test_sns_user_id_has_the_platforms_shape(conversations, platform):
    ids = [c["sns_user_id"] for c in conversations if c["platform"] == platform]
    assert ids and all(isinstance(i, str) and re.fullmatch(SNS_USER_IDS[platform], i) for i in ids)
    assert len(set(ids)) > len(ids) * 0.99


def test_voice_conversations_follow_the_voice_rules(conversations):
    voice = [c for c in conversations if c["platform"] == "voice"]
    assert len(voice) > 100
    for c in voice:
        assert c["sns_user_id"] is None and c["last_message"] is None
        assert c["metadata"] == {"type": "voice_chat"}
        assert VOICE_PATH.fullmatch(c["voice_path"])


def test_other_platforms_follow_the_text_rules(conversations):
    for c in conversations:
        if c["platform"] == "voice":
            continue
        assert c["voice_path"] is None
        assert set(c["metadata"]) == {"anonymous"}
        assert (c["user_id"] is None) == c["metadata"]["anonymous"]
        assert c["migrated_data"] is False and c["session_token"] is None


def test_active_matches_state_and_human_mode_only_while_in_progress(conversations):
    for c in conversations:
        assert c["active"] == (c["state"] == "in_progress")
        assert not c["is_human_mode"] or c["active"]


def test_message_languages_fit_the_platform(conversations):
    by_platform = {}
    for c in conversations:
        text = _text(c)
        if text is not None:
            assert text.strip()
            by_platform.setdefault(c["platform"], []).append(_scripts(text))
    assert all(scripts & {"HANGUL"} for scripts in by_platform["navertalktalk"])
    line = by_platform["line"]
    assert all(scripts & {"THAI", "HIRAGANA", "KATAKANA", "CJK"} for scripts in line)
    # Line users write Thai, Japanese and Chinese: each appears.
    assert any("THAI" in s for s in line) and any(s & {"HIRAGANA", "KATAKANA"} for s in line)
    assert any(s == {"CJK"} for s in line)
    for platform in ("web", "whatsapp", "instagram", "facebook-messenger"):
        assert all(scripts <= {"LATIN"} for scripts in by_platform[platform]), platform


def test_timestamps_have_the_documented_format(conversations):
    for c in conversations:
        for field in ("created_at", "updated_at"):
            assert TIMESTAMP.fullmatch(c[field]), c[field]
        assert datetime.fromisoformat(c["updated_at"]) >= datetime.fromisoformat(c["created_at"])
    # Both forms the document prints appear: with and without a fraction of a second.
    assert any("." in c["created_at"] for c in conversations)


IDLE_AT_MOST = timedelta(days=7, hours=6, minutes=10)


def test_conversations_last_from_seconds_to_days(conversations):
    hours = Counter()
    for c in conversations:
        lasted = datetime.fromisoformat(c["updated_at"]) - datetime.fromisoformat(c["created_at"])
        if c["platform"] == "voice":
            # A voice call's record is updated when it ends, seconds after it starts.
            assert (1 <= lasted.total_seconds() < 5) if not c["active"] else lasted.total_seconds() < 5
            continue
        # Chats last up to three days; one left idle is closed a week after its last message (at most
        # six hours and ten minutes after its first), and updated then.
        assert lasted.total_seconds() < 3 * 24 * 3600 or c["state"] == "closed" and lasted <= IDLE_AT_MOST
        hours["under half an hour" if lasted.total_seconds() < 1800 else
              "under six hours" if lasted.total_seconds() < 6 * 3600 else "up to three days"
              if lasted.total_seconds() < 3 * 24 * 3600 else "closed idle"] += 1
    text = sum(hours.values())
    # Quick chats (5 to 40 minutes, per chatbot) are every other chat: some last under half an hour;
    # some run for hours, some for days, and some are left idle until the help desk closes them.
    assert hours["under half an hour"] / text > 0.05
    assert hours["under six hours"] / text > 0.2
    assert hours["up to three days"] / text > 0.1
    assert hours["closed idle"] / text > 0.1


@pytest.mark.parametrize("chatbot", CHATBOTS)
def test_newest_first_and_owned_by_the_chatbot(conversations, chatbot):
    own = [c for c in conversations if c["chatbot_id"] == chatbot]
    assert len(own) == PER_CHATBOT
    moments = [datetime.fromisoformat(c["created_at"]) for c in own]
    assert all(a > b for a, b in zip(moments, moments[1:]))


def test_conversation_n_is_the_same_wherever_it_is_read(app):
    """history.conversation(n) (n counted from the oldest) agrees with the pages that serve it."""
    catalogue = app.extensions["catalogue"]
    history = catalogue.history(CHATBOTS[0])
    total, body = catalogue.page(CHATBOTS[0], PageQuery(page=3, page_size=7))
    assert json.loads(body) == [history.conversation(total - 1 - i) for i in range(14, 21)]
    assert history.total() == total


# --- a chatbot of a million generated conversations -----------------------------------------

BIG = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"


@pytest.fixture(scope="module")
def big_client(tmp_path_factory):
    from conversations_mock import create_app

    directory = tmp_path_factory.mktemp("big")
    (directory / "big.json").write_text(json.dumps({"chatbots": [{"id": BIG, "generated": {"count": 1000000}}]}))
    return create_app({"fixtures_dir": str(directory)}).test_client()


def _get(client, query):
    response = client.get(f"/chatbots/{BIG}/conversations?{query}", headers={"X-API-Key": API_KEY})
    assert response.status_code == 200
    return response, json.loads(response.data)


def _check_page(items, count):
    assert len(items) == count
    schema = ConversationSchema()
    assert all(schema.validate(c) == {} and c["chatbot_id"] == BIG for c in items)
    moments = [datetime.fromisoformat(c["created_at"]) for c in items]
    assert all(a > b for a, b in zip(moments, moments[1:]))


@pytest.mark.parametrize("page", [1, 2, 54321, 99999, 100000])
def test_million_conversation_chatbot_serves_any_page(big_client, page):
    response, items = _get(big_client, f"page={page}&page_size=10")
    assert response.headers["X-Total-Count"] == "1000000"
    _check_page(items, 10)
    assert response.headers["Link"].endswith('page=100000&page_size=10>; rel="last"')


def test_million_conversation_chatbot_pages_join_up(big_client):
    _, first = _get(big_client, "page=54321&page_size=10")  # items 543200..543209
    _, second = _get(big_client, "page=54322&page_size=10")  # items 543210..543219
    _, wide = _get(big_client, "page=5433&page_size=100")  # items 543200..543299
    _, next_wide = _get(big_client, "page=5434&page_size=100")
    assert wide[0:10] == first and wide[10:20] == second
    _check_page(wide + next_wide, 200)
    _, past = _get(big_client, "page=100001&page_size=10")
    assert past == []


def test_million_conversation_chatbot_state_filter(big_client):
    totals = {}
    for state in ("in_progress", "resolved", "closed"):
        response, first = _get(big_client, f"state={state}&page_size=100")
        totals[state] = int(response.headers["X-Total-Count"])
        last_page = -(-totals[state] // 100)
        _, late = _get(big_client, f"state={state}&page={last_page - 3}&page_size=100")
        for items in (first, late):
            _check_page(items, 100)
            assert all(c["state"] == state and c["active"] == (state == "in_progress") for c in items)
        _, last = _get(big_client, f"state={state}&page={last_page}&page_size=100")
        assert 1 <= len(last) <= 100 and all(c["state"] == state for c in last)
        _, past = _get(big_client, f"state={state}&page={last_page + 1}&page_size=100")
        assert past == []
    assert sum(totals.values()) == 1000000 and min(totals.values()) > 0
    # The last conversation of the whole history is the last of its state's listing.
    _, tail = _get(big_client, "page=100000&page_size=10")
    _, last_of_state = _get(big_client, f"state={tail[-1]['state']}&page={totals[tail[-1]['state']]}&page_size=1")
    assert last_of_state == [tail[-1]]


def test_fixture_seed_gives_its_own_history(tmp_path, make_app):
    chatbots = [{"id": BIG, "generated": {"count": 50, "seed": 7}}]
    (tmp_path / "seeded.json").write_text(json.dumps({"chatbots": chatbots}))
    pages = []
    for server_seed in (1, 2):
        client = make_app({"fixtures_dir": str(tmp_path), "seed": server_seed}).test_client()
        response = client.get(f"/chatbots/{BIG}/conversations", headers={"X-API-Key": API_KEY})
        assert response.headers["X-Total-Count"] == "50"
        pages.append(response.data)
    # The fixture's seed wins over the server's: both servers answer alike.
    assert pages[0] == pages[1]


@pytest.mark.parametrize("count", [50, 1_000_000])
def test_a_history_let_go_of_is_freed_at_once(count):
    """No reference cycle: a history the cache drops goes at once, not at the collector's next full
    walk of the heap, which paused a worker for tens of milliseconds under a stream of new chatbots."""
    from conversations_mock.data.generator import GeneratedHistory
    from conversations_mock.data.messages import SHARED_POOLS

    gc.disable()
    try:
        history = GeneratedHistory(BIG, 7, count, SHARED_POOLS)
        history.page("resolved", 0, 10)
        history.page(None, 0, 10, at=history.snapshot().at + 10**9)
        gone = weakref.ref(history)
        del history
        assert gone() is None
    finally:
        gc.enable()
