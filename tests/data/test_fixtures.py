"""Fixture files: each way a person could break one stops startup naming the file, item and field."""

import copy
import json
import os

import pytest

from conversations_mock import FixtureError, create_app
from tests.helpers import API_KEY, DOCUMENTED_CHATBOT

CHATBOT = "11111111-2222-4333-8444-555555555555"
VOICE = 5  # the documented example's voice conversation, in the document's order


@pytest.fixture
def fixture_document(documented_example):
    """A valid fixture: the documented conversations, moved to another chatbot."""
    conversations = copy.deepcopy(documented_example)
    for conversation in conversations:
        conversation["chatbot_id"] = CHATBOT
    assert conversations[VOICE]["platform"] == "voice"
    return {"chatbots": [{"id": CHATBOT, "name": "broken on purpose", "conversations": conversations}]}


def _load(directory):
    return create_app({"fixtures_dir": str(directory)})


def _fails(directory, *fragments, lines=1):
    """Startup fails with `lines` lines, each naming a file of `directory`, containing every fragment."""
    with pytest.raises(FixtureError) as caught:
        _load(directory)
    message = str(caught.value)
    assert len(message.splitlines()) == lines, message
    for line in message.splitlines():
        assert line.startswith(f"{directory}{os.sep}") and ".json: " in line, line
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_valid_fixture_is_served(write_fixture, fixture_document, documented_example):
    client = _load(write_fixture("mine.json", fixture_document)).test_client()
    response = client.get(f"/chatbots/{CHATBOT}/conversations", headers={"X-API-Key": API_KEY})
    assert response.status_code == 200
    assert [c["id"] for c in response.json] == [c["id"] for c in documented_example]
    # The built-in fixture is still read beside it.
    other = client.get(f"/chatbots/{DOCUMENTED_CHATBOT}/conversations", headers={"X-API-Key": API_KEY})
    assert other.json == documented_example


def test_listed_conversations_are_served_newest_first(write_fixture, fixture_document, documented_example):
    fixture_document["chatbots"][0]["conversations"].reverse()
    client = _load(write_fixture("mine.json", fixture_document)).test_client()
    response = client.get(f"/chatbots/{CHATBOT}/conversations", headers={"X-API-Key": API_KEY})
    assert [c["id"] for c in response.json] == [c["id"] for c in documented_example]


# --- files that are not JSON, or cannot be read ---------------------------------------------

@pytest.mark.parametrize(
    "content, fragments",
    [
        ("{", ["not valid JSON", "line 1 column 2"]),
        ("", ["not valid JSON", "line 1 column 1"]),
        ('{\n  "chatbots": [\n    {"id": "x",}\n  ]\n}', ["not valid JSON", "line 3 column 16"]),
        ("{'chatbots': []}", ["not valid JSON", "line 1 column 2"]),
        ('{"chatbots": []}\n{"chatbots": []}', ["not valid JSON", "line 2 column 1"]),
        ("// a comment\n{}", ["not valid JSON", "line 1 column 1"]),
    ],
    ids=["unclosed", "empty", "trailing-comma", "single-quotes", "two-documents", "comment"],
)
def test_not_json(write_fixture, content, fragments):
    directory = write_fixture("broken.json", content)
    _fails(directory, str(directory / "broken.json"), *fragments)


def test_not_utf8(tmp_path):
    (tmp_path / "latin1.json").write_bytes('{"chatbots": [\n  {"name": "café"}]}'.encode("latin-1"))
    _fails(tmp_path, f"{tmp_path / 'latin1.json'}: not UTF-8", "byte 0xe9 at line 2 column 16", "save the file as UTF-8")


def test_utf8_byte_order_mark_is_accepted(tmp_path, fixture_document):
    """Some editors save UTF-8 with a byte order mark; the file is still UTF-8 JSON."""
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(fixture_document).encode())
    app = _load(tmp_path)
    assert CHATBOT in app.extensions["catalogue"].chatbot_ids()


def test_directory_named_like_a_fixture(tmp_path):
    (tmp_path / "x.json").mkdir()
    _fails(tmp_path, str(tmp_path / "x.json"), "cannot be read", "directory")


def test_dangling_link_named_like_a_fixture(tmp_path):
    os.symlink(tmp_path / "gone.json", tmp_path / "y.json")
    _fails(tmp_path, str(tmp_path / "y.json"), "cannot be read", "No such file")


def test_other_files_are_ignored(tmp_path, fixture_document):
    (tmp_path / "notes.txt").write_text("not a fixture {")
    (tmp_path / "mine.json.bak").write_text("{")
    (tmp_path / "mine.json").write_text(json.dumps(fixture_document))
    assert CHATBOT in _load(tmp_path).extensions["catalogue"].chatbot_ids()


# --- files that are JSON but not a fixture --------------------------------------------------

@pytest.mark.parametrize(
    "document, fragments",
    [
        ([], ["file:", "object"]),
        ([{"chatbots": []}], ["file:", "object"]),
        ("chatbots", ["file:", "object"]),
        (None, ["file:", "object"]),
        ({}, ["chatbots:", "Missing data for required field"]),
        ({"chatbot": []}, ["chatbots: Missing data for required field", "chatbot: Unknown field"]),
        ({"chatbots": {}}, ["chatbots:", "list"]),
        ({"chatbots": ["x"]}, ["chatbots[0]:", "object"]),
        ({"chatbots": [{"id": CHATBOT, "conversations": [None]}]}, ["chatbots[0].conversations[0]:", "not be null"]),
        ({"chatbots": [{"id": CHATBOT, "generated": 5}]}, ["chatbots[0].generated:", "object"]),
        ({"chatbots": [{"conversations": []}]}, ["chatbots[0].id:", "Missing data for required field"]),
        ({"chatbots": [{"id": "nope", "conversations": []}]}, ["chatbots[0].id:", "UUID"]),
        ({"chatbots": [{"id": CHATBOT}]}, ["chatbots[0]:", "exactly one of 'conversations' or 'generated'"]),
        ({"chatbots": [{"id": CHATBOT, "conversations": [], "generated": {"count": 1}}]},
         ["chatbots[0]:", "exactly one of 'conversations' or 'generated'"]),
        ({"chatbots": [{"id": CHATBOT, "conversations": {}}]}, ["chatbots[0].conversations:", "list"]),
        ({"chatbots": [{"id": CHATBOT, "generated": {}}]}, ["chatbots[0].generated.count:", "Missing"]),
        ({"chatbots": [{"id": CHATBOT, "generated": {"count": -1}}]}, ["chatbots[0].generated.count:", "greater"]),
        ({"chatbots": [{"id": CHATBOT, "generated": {"count": "10"}}]}, ["chatbots[0].generated.count:", "integer"]),
        ({"chatbots": [{"id": CHATBOT, "generated": {"count": 10**10}}]}, ["chatbots[0].generated.count:", "less"]),
        ({"chatbots": [{"id": CHATBOT, "generated": {"count": 5, "seed": "x"}}]},
         ["chatbots[0].generated.seed:", "integer"]),
        ({"chatbots": [{"id": CHATBOT, "generated": {"count": 5, "size": 1}}]},
         ["chatbots[0].generated.size:", "Unknown field"]),
    ],
    ids=["list", "list-of-object", "string", "null", "no-chatbots", "misspelt-chatbots", "chatbots-object",
         "chatbot-string", "conversation-null", "generated-number", "no-id", "bad-id", "neither-source", "both-sources", "conversations-object",
         "no-count", "negative-count", "string-count", "huge-count", "string-seed", "unknown-generated-field"],
)
def test_wrong_shape(write_fixture, document, fragments):
    directory = write_fixture("shape.json", json.dumps(document))
    _fails(directory, str(directory / "shape.json"), *fragments, lines=2 if document == {"chatbot": []} else 1)


# --- conversations that break a field or a rule of the API ----------------------------------

def _drop(field):
    return lambda c: c.pop(field)


def _set(field, value):
    return lambda c: c.__setitem__(field, value)


CONVERSATION_BREAKS = [
    # (id, index of the conversation broken, how, field named, words of the message)
    ("missing-platform", 3, _drop("platform"), "platform", "Missing data for required field"),
    ("missing-updated_at", 2, _drop("updated_at"), "updated_at", "Missing data for required field"),
    ("unknown-field", 0, _set("title", "x"), "title", "Unknown field"),
    ("bad-platform", 3, _set("platform", "telegram"), "platform", "Must be one of"),
    ("platform-case", 3, _set("platform", "Web"), "platform", "Must be one of"),
    ("bad-state", 1, _set("state", "open"), "state", "Must be one of"),
    ("bad-created_at", 4, _set("created_at", "yesterday"), "created_at", "ISO 8601"),
    ("naive-created_at", 4, _set("created_at", "2025-03-07T04:56:09"), "created_at", "UTC offset"),
    ("number-updated_at", 4, _set("updated_at", 1741323369), "updated_at", "ISO 8601"),
    ("bad-id", 0, _set("id", "dcda7e8a"), "id", "UUID"),
    ("bad-user_id", 0, _set("user_id", "someone"), "user_id", "UUID"),
    ("string-active", 0, _set("active", "true"), "active", "boolean"),
    ("number-migrated_data", 0, _set("migrated_data", 0), "migrated_data", "boolean"),
    ("number-last_message", 0, _set("last_message", 5), "last_message", "null, a string, or an object"),
    ("message-without-content", 0, lambda c: c["last_message"].pop("content"), "last_message.content",
     "Missing data for required field"),
    ("message-list", 0, _set("last_message", ["hi"]), "last_message", "null, a string, or an object"),
    ("message-sender", 0, lambda c: c["last_message"].__setitem__("sender_type", "user"),
     "last_message.sender_type", "Must be one of"),
    ("voice-with-sns_user_id", VOICE, _set("sns_user_id", "U" + "0" * 32), "sns_user_id", "voice"),
    ("voice-with-message", VOICE, _set("last_message", "hi"), "last_message", "voice"),
    ("voice-metadata", VOICE, _set("metadata", {"anonymous": True}), "metadata", "voice_chat"),
    ("voice-without-path", VOICE, _set("voice_path", None), "voice_path", "recording"),
    ("voice-path-shape", VOICE, _set("voice_path", "call.mp3"), "voice_path", "recording"),
    ("text-with-voice_path", 0, _set("voice_path", "conversation-voice_assistant_room_1.ogg"), "voice_path",
     "voice"),
    ("text-without-sns_user_id", 0, _set("sns_user_id", None), "sns_user_id", "navertalktalk"),
    ("line-id-shape", 0, _set("platform", "line"), "sns_user_id", "'U' followed by 32"),
    ("text-voice-metadata", 0, _set("metadata", {"type": "voice_chat"}), "metadata", "anonymous"),
    ("anonymous-with-user", 0, _set("user_id", "c8956c02-b6a1-4b5f-ab2f-04256bfbec49"), "user_id",
     "anonymous"),
    ("active-not-in-progress", 0, _set("active", False), "active", "in_progress"),
    ("closed-but-active", 0, _set("state", "closed"), "active", "in_progress"),
    ("updated-before-created", 2, _set("updated_at", "2025-03-07T03:49:53.756918+00:00"), "updated_at",
     "earlier than created_at"),
    ("other-chatbot", 3, _set("chatbot_id", DOCUMENTED_CHATBOT), "chatbot_id", "chatbot's id"),
]


@pytest.mark.parametrize("index, break_it, field, words", [c[1:] for c in CONVERSATION_BREAKS],
                         ids=[c[0] for c in CONVERSATION_BREAKS])
def test_broken_conversation(write_fixture, fixture_document, index, break_it, field, words):
    break_it(fixture_document["chatbots"][0]["conversations"][index])
    directory = write_fixture("conversations.json", fixture_document)
    _fails(directory, f"{directory / 'conversations.json'}: chatbots[0].conversations[{index}].{field}: ", words)


def test_duplicate_conversation_ids(write_fixture, fixture_document):
    conversations = fixture_document["chatbots"][0]["conversations"]
    conversations[7]["id"] = conversations[2]["id"]
    directory = write_fixture("dupes.json", fixture_document)
    _fails(directory, f"{directory / 'dupes.json'}: chatbots[0].conversations[7].id: ", "Repeats the id")


def test_error_in_a_later_chatbot_names_its_index(write_fixture, fixture_document):
    second = copy.deepcopy(fixture_document["chatbots"][0])
    second["id"] = "22222222-2222-4333-8444-555555555555"
    second["conversations"][6]["platform"] = "sms"
    fixture_document["chatbots"].append(second)
    directory = write_fixture("two.json", fixture_document)
    _fails(directory, "two.json: chatbots[1].conversations[6].platform: Must be one of")


def test_every_problem_is_named_on_its_own_line(write_fixture, fixture_document):
    conversations = fixture_document["chatbots"][0]["conversations"]
    conversations[1]["platform"] = "sms"
    conversations[2]["state"] = "done"
    directory = write_fixture("many.json", fixture_document)
    first, second = _fails(directory, lines=2).splitlines()
    assert first.startswith(f"{directory / 'many.json'}: chatbots[0].conversations[1].platform: Must be one of")
    assert second.startswith(f"{directory / 'many.json'}: chatbots[0].conversations[2].state: Must be one of")


@pytest.mark.parametrize("broken, shown", [(10, 10), (11, 11), (16, 11)])
def test_problems_past_ten_are_counted(write_fixture, fixture_document, broken, shown):
    conversations = fixture_document["chatbots"][0]["conversations"]
    for n in range(6):
        extra = copy.deepcopy(conversations[n])
        extra["id"] = extra["id"][:-1] + "f"
        conversations.append(extra)
    for conversation in conversations[:broken]:
        conversation["title"] = "x"
    directory = write_fixture("lots.json", fixture_document)
    lines = _fails(directory, lines=shown).splitlines()
    assert [line.split(": ")[1] for line in lines[:10]] == [f"chatbots[0].conversations[{n}].title" for n in range(10)]
    if broken > 10:
        more = broken - 10
        assert lines[-1] == f"{directory / 'lots.json'}: and {more} more problem{'s' * (more > 1)} in this file"


# --- several files and directories ----------------------------------------------------------

def test_same_chatbot_twice_in_one_directory(tmp_path, fixture_document):
    (tmp_path / "a.json").write_text(json.dumps(fixture_document))
    (tmp_path / "b.json").write_text(json.dumps(fixture_document))
    _fails(tmp_path, f"{tmp_path / 'b.json'}: chatbots[0].id: ", CHATBOT, f"already defined in {tmp_path / 'a.json'}")


def test_same_chatbot_twice_in_one_file(tmp_path, fixture_document):
    generated = {"id": CHATBOT, "generated": {"count": 3}}
    fixture_document["chatbots"].append(generated)
    (tmp_path / "a.json").write_text(json.dumps(fixture_document))
    _fails(tmp_path, f"{tmp_path / 'a.json'}: chatbots[1].id: ", "already defined")


def test_later_directory_overrides_the_builtin_fixture(tmp_path, make_app, documented_example):
    override = {"chatbots": [{"id": DOCUMENTED_CHATBOT, "generated": {"count": 25}}]}
    (tmp_path / "documented.json").write_text(json.dumps(override))
    client = make_app({"fixtures_dir": str(tmp_path)}).test_client()
    response = client.get(f"/chatbots/{DOCUMENTED_CHATBOT}/conversations", headers={"X-API-Key": API_KEY})
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "25"
    assert response.json != documented_example
    assert all(c["chatbot_id"] == DOCUMENTED_CHATBOT for c in response.json)
    # Without the directory, the built-in example is back.
    plain = make_app().test_client()
    assert plain.get(f"/chatbots/{DOCUMENTED_CHATBOT}/conversations",
                     headers={"X-API-Key": API_KEY}).json == documented_example


def test_first_broken_file_is_named_among_good_ones(tmp_path, fixture_document):
    (tmp_path / "a.json").write_text(json.dumps(fixture_document))
    (tmp_path / "b.json").write_text('{"chatbots": [}')
    _fails(tmp_path, str(tmp_path / "b.json"), "line 1 column 15")


def test_builtin_fixture_file_is_valid():
    from conversations_mock.data.fixtures import BUILTIN_FIXTURES, read_fixture_file

    for path in sorted(BUILTIN_FIXTURES.glob("*.json")):
        assert read_fixture_file(path)


def test_a_file_the_package_does_not_ship_stops_the_suite_naming_it(builtin_fixtures, tmp_path):
    """A stray file in the package's fixtures (every server loads them) would fail dozens of tests unexplained."""
    import shutil
    import subprocess
    import sys

    from tests.helpers import REPO

    shutil.copy(builtin_fixtures / "documented-example.json", builtin_fixtures / "stray.json")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_files.py"],
            capture_output=True, text=True, cwd=REPO, timeout=120,
        )
    finally:
        (builtin_fixtures / "stray.json").unlink()
    assert result.returncode == 4 and result.stdout == "", result.stdout
    assert result.stderr.startswith(f"ERROR: {builtin_fixtures}, the package's own fixtures, holds stray.json, ")
    assert "--fixtures DIR" in result.stderr


def test_first_mistake_in_file_order_is_named(write_fixture, fixture_document):
    conversations = fixture_document["chatbots"][0]["conversations"]
    for n in range(3):
        extra = copy.deepcopy(conversations[n])
        extra["id"] = extra["id"][:-1] + "f"
        conversations.append(extra)
    conversations[11]["state"] = "x"
    conversations[2]["platform"] = "sms"
    directory = write_fixture("order.json", fixture_document)
    first, second = _fails(directory, lines=2).splitlines()
    assert "order.json: chatbots[0].conversations[2].platform: " in first
    assert "order.json: chatbots[0].conversations[11].state: " in second
