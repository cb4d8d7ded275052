"""Problem documents (web/problems.py): every sender of a status gives it the same shape and words."""

from http import HTTPStatus

import orjson
import pytest

from conversations_mock.schemas.preferences import SCENARIO_CODES
from conversations_mock.web.openapi import build_document
from conversations_mock.web.problems import LOGGED, describe, simulated_detail
from conversations_mock.web.worker import problem_writer
from tests.helpers import API_KEY, GENERATED_CHATBOT

URL = f"/chatbots/{GENERATED_CHATBOT}/conversations"
SIMULATED = [code for code in SCENARIO_CODES if code != 200]


def _examples(base_path=""):
    document = build_document(base_path)
    path = document["paths"][URL.replace(GENERATED_CHATBOT, "{chatbot_id}")]["get"]
    return {int(code): answer["content"]["application/problem+json"]["example"]
            for code, answer in path["responses"].items() if code != "200"}


@pytest.mark.parametrize("code", SIMULATED)
def test_a_simulated_status_reads_as_the_table_says(get, code):
    body = get(URL, headers={"Prefer": f"code={code}"}).get_json()
    assert body["title"] == HTTPStatus(code).phrase
    assert body["detail"] == simulated_detail(code) and body["detail"].startswith(describe(code))
    assert ("errors" in body) == (code == 422)  # a 422 always says "see errors", so it has some


@pytest.mark.parametrize("base_path", ["", "/v1"])
def test_the_documents_examples_are_what_the_server_sends(make_app, base_path):
    client = make_app({"base_path": base_path}).test_client()
    examples = _examples(base_path)
    sent = {
        404: client.get(base_path + "/nowhere", headers={"X-API-Key": API_KEY}),
        401: client.get(base_path + URL),
        405: client.post(base_path + URL, headers={"X-API-Key": API_KEY}),
    }
    for code, response in sent.items():
        body = response.get_json()
        assert body["title"] == examples[code]["title"] and body["status"] == code
        assert examples[code]["detail"] == describe(code, base_path)
    assert sent[404].get_json()["detail"] == describe(404, base_path)
    for code in (429, 502, 504):  # only ever simulated: the example is the simulated answer
        assert examples[code]["detail"] == simulated_detail(code, base_path)
    # 503 is also what an unreachable store answers (web/problems.py), not only a simulation.
    assert examples[503]["detail"] == describe(503, base_path)


def test_an_unexpected_failure_says_its_log_has_the_details(make_app, monkeypatch):
    app = make_app()
    app.extensions["layers"]["fast"].enabled = False

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.extensions["catalogue"], "page", broken)
    body = app.test_client().get(URL, headers={"X-API-Key": API_KEY}).get_json()
    assert body["detail"] == describe(500) + LOGGED and "a bug" not in body["detail"]


class _Socket:
    def __init__(self):
        self.sent = b""

    def sendall(self, data):
        self.sent += data

    def setblocking(self, flag):
        pass


@pytest.mark.parametrize("status, message", [(400, "Invalid request line"), (431, "limit request headers fields"),
                                             (500, "")])
def test_the_workers_own_refusals_have_the_same_shape(monkeypatch, status, message):
    from types import SimpleNamespace

    from gunicorn import util

    sock = _Socket()
    monkeypatch.setattr(util, "write_nonblock", lambda s, data: s.sendall(data))
    config = SimpleNamespace(limit_request_line=4094, limit_request_fields=100, limit_request_field_size=8190)
    problem_writer(config)(sock, status, HTTPStatus(status).phrase, message)
    head, body = sock.sent.split(b"\r\n\r\n", 1)
    document = orjson.loads(body)
    assert list(document) == ["type", "title", "status", "detail"]
    assert document["title"] == HTTPStatus(status).phrase and document["status"] == status
    assert b"Content-Type: application/problem+json" in head
    if status == 500:
        assert document["detail"] == describe(500) + LOGGED
