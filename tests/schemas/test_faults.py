"""schemas/faults.py: the fault rules PUT /__mock/faults accepts, and each refusal named by the rule's index."""

import pytest
from marshmallow import ValidationError

from conversations_mock.schemas.faults import MAX_RULES, load_rules
from conversations_mock.schemas.preferences import FAULTS

CHATBOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"


@pytest.mark.parametrize("rule, loaded", [
    ({"times": 2, "answer": {"code": 503, "retry_after": 1}}, None),
    ({"answer": {"code": 429}}, None),
    ({"answer": {"code": 500, "delay": 1500}}, None),
    ({"answer": {"delay": 0}}, None),
    ({"answer": {"dribble": 2000}}, None),
    *[({"answer": {"fault": fault}}, None) for fault in FAULTS],
    ({"rate": 0, "answer": {"code": 502}}, None),
    ({"rate": 1, "answer": {"code": 502}}, {"rate": 1.0, "answer": {"code": 502}}),
    ({"match": {}, "answer": {"code": 504}}, None),
    ({"match": {"page": 3, "state": "closed"}, "times": 1, "rate": 0.25, "answer": {"code": 503}}, None),
    # Any spelling of the chatbot's UUID, kept in the form the path loads it in.
    ({"match": {"chatbot_id": CHATBOT.upper().replace("-", "")}, "answer": {"code": 404}},
     {"match": {"chatbot_id": CHATBOT}, "answer": {"code": 404}}),
])
def test_good_rules_load(rule, loaded):
    assert load_rules([rule]) == [loaded or rule]


@pytest.mark.parametrize("rule, field, message", [
    ({}, "answer", "Missing data"),
    ({"answer": {}}, "answer._schema", "Give one of code, fault, delay or dribble"),
    ({"answer": {"fault": "timeout"}}, "answer.fault", "Must be one of: connection-reset"),
    ({"answer": {"fault": "empty-response", "code": 503}}, "answer.fault", "Comes alone"),
    ({"answer": {"fault": "empty-response", "delay": 5}}, "answer.fault", "Comes alone"),
    ({"answer": {"dribble": 100, "code": 200}}, "answer.dribble", "Comes alone"),
    ({"answer": {"code": 500, "retry_after": 2}}, "answer.retry_after", "Only with code 429 or 503"),
    ({"answer": {"delay": 10, "retry_after": 2}}, "answer.retry_after", "Only with code 429 or 503"),
    ({"answer": {"code": 503, "retry_after": 3601}}, "answer.retry_after", "from 0 to 3600"),
    ({"answer": {"code": 418}}, "answer.code", "Must be one of"),
    ({"answer": {"code": "503"}}, "answer.code", "Not a whole number"),
    ({"answer": {"delay": 60001}}, "answer.delay", "from 0 to 60000"),
    ({"answer": {"dribble": -1}}, "answer.dribble", "from 0 to 60000"),
    ({"answer": {"code": 503, "wait": 1}}, "answer.wait", "Unknown field"),
    ({"answer": [503]}, "answer._schema", "Must be a JSON object"),
    ({"times": 0, "answer": {"code": 503}}, "times", "from 1 to"),
    ({"times": 1.5, "answer": {"code": 503}}, "times", "Not a whole number"),
    ({"times": True, "answer": {"code": 503}}, "times", "Not a whole number"),
    ({"rate": 1.01, "answer": {"code": 503}}, "rate", "from 0 to 1"),
    ({"rate": "0.5", "answer": {"code": 503}}, "rate", "Not a number"),
    ({"match": {"chatbot_id": "bot-1"}, "answer": {"code": 503}}, "match.chatbot_id", "Not a valid UUID"),
    ({"match": {"state": "open"}, "answer": {"code": 503}}, "match.state", "Must be one of"),
    ({"match": {"page": 0}, "answer": {"code": 503}}, "match.page", "Must be from 1"),
    ({"match": {"page_size": 5}, "answer": {"code": 503}}, "match.page_size", "Unknown field"),
    ({"when": "always", "answer": {"code": 503}}, "when", "Unknown field"),
    ("503", "_schema", "Must be a JSON object"),
])
def test_bad_rules_are_refused_naming_the_field(rule, field, message):
    with pytest.raises(ValidationError) as refused:
        load_rules([{"answer": {"code": 500}}, rule])
    messages = refused.value.messages
    assert list(messages) == [1]  # the good rule before it is not named
    found = messages[1]
    for step in field.split("."):
        found = found[step]
    assert message in found[0]


@pytest.mark.parametrize("document, message", [
    ({"times": 2}, "Must be a JSON array of rules."),
    ([{"answer": {"code": 500}}] * (MAX_RULES + 1), f"At most {MAX_RULES} rules"),
])
def test_the_body_must_be_an_array_of_few_enough_rules(document, message):
    with pytest.raises(ValidationError) as refused:
        load_rules(document)
    assert message in refused.value.messages["_schema"][0]


def test_an_empty_array_is_no_rules():
    assert load_rules([]) == []


def test_the_schemas_do_not_import_flask():
    import subprocess
    import sys

    code = "import sys, conversations_mock.schemas.faults; sys.exit('flask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
