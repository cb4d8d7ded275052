"""A client team's tests of their API client, against the conversations_mock fixture."""

import json
import urllib.error
import urllib.request

import pytest

CHATBOT = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"


class ConversationsClient:
    """The client under test: reads pages of a chatbot's conversations."""

    def __init__(self, base_url, api_key):
        self.base_url, self.api_key = base_url, api_key

    def page(self, chatbot_id, page=1, prefer=None):
        """(total, the page's conversations), or RuntimeError naming the status."""
        headers = {"X-API-Key": self.api_key, **({"Prefer": prefer} if prefer else {})}
        url = f"{self.base_url}/chatbots/{chatbot_id}/conversations?page={page}&page_size=10"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
                return int(response.headers["X-Total-Count"]), json.load(response)
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"Get Conversations failed with {error.code}") from error


@pytest.fixture
def client(conversations_mock):
    return ConversationsClient(conversations_mock.url, conversations_mock.api_key)


def test_reads_the_last_page(client, conversations_mock):
    conversations_mock.load_fixture({"chatbots": [{"id": CHATBOT, "generated": {"count": 25}}]})

    total, conversations = client.page(CHATBOT, page=3)

    assert total == 25
    assert len(conversations) == 5
    assert {c["chatbot_id"] for c in conversations} == {CHATBOT}
    created = [c["created_at"] for c in conversations]
    assert created == sorted(created, reverse=True)
    [request] = conversations_mock.journal
    assert request.query == {"page": "3", "page_size": "10"}
    assert request.sent("X-API-Key", conversations_mock.api_key)


def test_the_same_seed_gives_the_same_data(client, conversations_mock):
    conversations_mock.seed = 7
    assert client.page(CHATBOT) == client.page(CHATBOT)


@pytest.mark.parametrize("status", [429, 503])
def test_reports_an_outage(client, conversations_mock, status):
    with pytest.raises(RuntimeError, match=f"failed with {status}"):
        client.page(CHATBOT, prefer=f"code={status}")
    assert [request.status for request in conversations_mock.journal] == [status]
