"""Catalogue.history computes a chatbot's key once and hands it on: the same history as one built from scratch."""

import orjson

from conversations_mock.data.catalogue import Catalogue
from conversations_mock.data.generator import GeneratedHistory, chatbot_key, generated_count


def test_a_generated_history_gets_the_key_of_its_seed_and_chatbot():
    catalogue = Catalogue([], seed=11, conversations=(30, 300))
    for chatbot_id, seed in (("0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11", None), ("00000000-0000-4000-8000-000000000000", 5)):
        history = catalogue.history(chatbot_id, seed)
        used = 11 if seed is None else seed
        key = chatbot_key(used, chatbot_id)
        assert history.key == key
        plain = GeneratedHistory(chatbot_id, used, generated_count(key, 30, 300), catalogue.pools)
        assert orjson.dumps(history.page(None, 0, 300)) == orjson.dumps(plain.page(None, 0, 300))
