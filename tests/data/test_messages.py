"""The message pools shipped with the package: Faker's own texts, used only where they apply."""

import json
import subprocess
import sys

import pytest

from conversations_mock.data import messages
from conversations_mock.data.messages import SHIPPED_POOLS, MessagePools, faker_release, recipe
from conversations_mock.data.platforms import ALL_LOCALES
from tests.helpers import REPO


@pytest.fixture(scope="module")
def fakers_own():
    """Every locale's pools as Faker makes them now."""
    pools = MessagePools(shipped=None)
    return {locale: pools.get(locale) for locale in ALL_LOCALES}


def test_the_shipped_file_holds_what_faker_makes(fakers_own):
    document = json.loads(SHIPPED_POOLS.read_text(encoding="utf-8"))
    # After changing the phrases (or Faker), `make pools` rewrites the file; until then this fails.
    assert (document["faker"], document["recipe"]) == (faker_release(), recipe())
    assert {locale: (tuple(user), tuple(bot)) for locale, (user, bot) in document["pools"].items()} == fakers_own


def test_pools_come_from_the_shipped_file(monkeypatch, fakers_own):
    monkeypatch.setattr(MessagePools, "_make", lambda self, locale: pytest.fail("Faker was asked"))
    pools = MessagePools()
    assert {locale: pools.get(locale) for locale in ALL_LOCALES} == fakers_own


def _shipped_document():
    return json.loads(SHIPPED_POOLS.read_text(encoding="utf-8"))


def _with(**changes):
    return lambda: json.dumps({**_shipped_document(), **changes})


def _short_pool():
    document = _shipped_document()
    document["pools"]["ko_KR"][0] = document["pools"]["ko_KR"][0][:-1]
    return json.dumps(document)


def _number_for_text():
    document = _shipped_document()
    document["pools"]["en_US"][1][3] = 7
    return json.dumps(document)


@pytest.mark.parametrize(
    "content",
    [
        _with(faker="39.0.0"),  # another Faker release: its locale data may differ
        _with(recipe="0" * 64),  # other phrases, size, seed or moment
        _with(pools=[]),
        _short_pool,
        _number_for_text,
        lambda: "{not json",
        lambda: "[]",
        None,  # no file at all
    ],
    ids=["other-faker", "other-recipe", "pools-not-a-mapping", "short-pool", "not-text", "not-json", "not-an-object",
         "missing"],
)
def test_a_file_that_does_not_apply_leaves_the_pools_to_faker(tmp_path, monkeypatch, fakers_own, content):
    path = tmp_path / "pools.json"
    if content is not None:
        path.write_text(content(), encoding="utf-8")
    made, make = [], MessagePools._make
    monkeypatch.setattr(MessagePools, "_make", lambda self, locale: made.append(locale) or make(self, locale))
    pools = MessagePools(shipped=path)
    assert {locale: pools.get(locale) for locale in ALL_LOCALES} == fakers_own
    assert made == list(ALL_LOCALES)  # every locale's texts made by Faker, none taken from the file


def test_make_pools_writes_the_file_it_reads(tmp_path, fakers_own):
    path = tmp_path / "pools.json"
    messages.write_shipped(path)
    assert messages.read_shipped(path) == fakers_own


def test_a_server_start_never_imports_faker():
    # What gunicorn's master does before forking (commands/gunicorn_conf.py on_starting): Faker's import
    # and the pools' making were ~250 ms of a 600 ms budget.
    code = (
        "import sys\n"
        "from conversations_mock import create_app\n"
        "from conversations_mock.data.platforms import ALL_LOCALES\n"
        "create_app().extensions['catalogue'].pools.warm(ALL_LOCALES)\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'faker'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
