"""The schemas on their own: the timestamp format, the conversation rules, the request parameters."""

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from conversations_mock.schemas import (
    STATES,
    ApiKeyHeaderSchema,
    ChatbotPathSchema,
    ConversationSchema,
    ConversationsQuerySchema,
    PageQuery,
    ProblemSchema,
    SettingsSchema,
    format_timestamp,
)
from tests.helpers import REPO

UTC = timezone.utc


@pytest.mark.parametrize(
    "moment, printed",
    [
        (datetime(2025, 3, 6, 2, 30, 18, 452290, tzinfo=UTC), "2025-03-06T02:30:18.45229+00:00"),
        (datetime(2025, 3, 7, 4, 56, 9, 200005, tzinfo=UTC), "2025-03-07T04:56:09.200005+00:00"),
        (datetime(2025, 3, 7, 4, 56, 9, 100000, tzinfo=UTC), "2025-03-07T04:56:09.1+00:00"),
        (datetime(2025, 3, 7, 4, 56, 9, 10, tzinfo=UTC), "2025-03-07T04:56:09.00001+00:00"),
        (datetime(2025, 3, 7, 4, 56, 9, tzinfo=UTC), "2025-03-07T04:56:09+00:00"),
        (datetime(2025, 3, 7, 13, 56, 9, 5000, tzinfo=timezone(timedelta(hours=9))),
         "2025-03-07T04:56:09.005+00:00"),
    ],
)
def test_format_timestamp_prints_as_the_document(moment, printed):
    assert format_timestamp(moment) == printed
    assert datetime.fromisoformat(printed) == moment


def test_documented_example_loads_and_dumps_unchanged(documented_example):
    schema = ConversationSchema()
    for conversation in documented_example:
        assert schema.dump(schema.load(conversation)) == conversation


def test_documented_example_shows_every_platform_but_one_and_every_message_shape(documented_example):
    assert {c["platform"] for c in documented_example} >= {"web", "whatsapp", "line", "voice", "navertalktalk"}
    assert {type(c["last_message"]).__name__ for c in documented_example} == {"NoneType", "str", "dict"}
    assert {c["state"] for c in documented_example} <= set(STATES)


@pytest.mark.parametrize(
    "value",
    ["2025-03-07T04:56:09", "2025-03-07", "yesterday", "", 1741323369, None, "2025-13-07T04:56:09+00:00"],
)
def test_timestamp_refuses_anything_but_an_offset_moment(documented_example, value):
    conversation = dict(documented_example[0], created_at=value)
    errors = ConversationSchema().validate(conversation)
    assert list(errors) == ["created_at"]


def test_timestamp_in_another_offset_is_read_as_utc(documented_example):
    conversation = dict(documented_example[0], created_at="2025-03-07T13:56:09.200005+09:00")
    assert ConversationSchema().dump(ConversationSchema().load(conversation))["created_at"] == (
        "2025-03-07T04:56:09.200005+00:00"
    )


@pytest.mark.parametrize(
    "query, loaded",
    [
        ({}, PageQuery(page=1, page_size=10, state=None)),
        ({"page": "3", "page_size": "100"}, PageQuery(page=3, page_size=100)),
        ({"state": "closed"}, PageQuery(page=1, page_size=10, state="closed")),
    ],
)
def test_query_schema_defaults(query, loaded):
    assert ConversationsQuerySchema().load(query) == loaded


@pytest.mark.parametrize(
    "query, field",
    [({"page": "0"}, "page"), ({"page": "+1"}, "page"), ({"page": " 1"}, "page"), ({"page": "1_0"}, "page"),
     ({"page": "١"}, "page"), ({"page_size": "101"}, "page_size"), ({"state": "open"}, "state"),
     ({"pagesize": "5"}, "pagesize")],
)
def test_query_schema_refuses(query, field):
    with pytest.raises(ValidationError) as caught:
        ConversationsQuerySchema().load(query)
    assert list(caught.value.messages) == [field]


@pytest.mark.parametrize("key, ok", [("a" * 48, True), ("a" * 47, False), ("a" * 49, False), ("A" * 48, False),
                                      ("a" * 48 + "\n", False), ("g" * 48, False)])
def test_api_key_shape(key, ok):
    assert (ApiKeyHeaderSchema().validate({"X-API-Key": key}) == {}) is ok


@pytest.mark.parametrize("value, loaded", [("30-300", (30, 300)), ("7", (7, 7)), (" 5 - 9 ", (5, 9)), ((2, 4), (2, 4))])
def test_conversations_setting_ranges(value, loaded):
    assert SettingsSchema().load({"conversations": value})["conversations"] == loaded


def test_problem_schema_keeps_rfc_9457_fields_in_order():
    dumped = ProblemSchema().dump({"title": "Not Found", "status": 404, "detail": "x"})
    assert list(dumped) == ["type", "title", "status", "detail"]
    assert dumped["type"] == "about:blank"


@settings(max_examples=300)
@given(st.text(alphabet="0123456789abcdefABCDEF-{}:urn_+ \n\t%", min_size=30, max_size=46)
       | st.uuids().map(str) | st.uuids().map(lambda u: u.hex.upper()))
def test_a_chatbot_id_is_admitted_only_as_hex_digits_and_dashes(text):
    # The fast path (web/admission.py) builds the Link header's base URL on this: an admitted path
    # is the same text in a URI and an IRI.
    try:
        loaded = ChatbotPathSchema().load({"chatbot_id": text})
    except ValidationError:
        return
    assert re.fullmatch(r"[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}", text)
    assert loaded["chatbot_id"].replace("-", "") == text.replace("-", "").lower()


def test_schemas_never_import_flask():
    code = ("import sys, conversations_mock.schemas; "
            "sys.exit(1 if {'flask', 'werkzeug', 'conversations_mock.web', 'conversations_mock.data'} & set(sys.modules) "
            "else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
