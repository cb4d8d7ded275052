"""The documented chatbot answers with the document's example."""

from tests.helpers import DOCUMENTED_CHATBOT


def test_documented_example_is_served(get, documented_example):
    response = get(f"/chatbots/{DOCUMENTED_CHATBOT}/conversations?page=1&page_size=10")
    assert response.status_code == 200
    assert response.json == documented_example
