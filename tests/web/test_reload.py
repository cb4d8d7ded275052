"""With reload on, fixture files added, edited, broken, fixed or removed are picked up without a restart."""

import json
import os
import subprocess
import time
import urllib.request

import pytest

from conversations_mock import FixtureError
from conversations_mock.commands.generate import fixture_document
from tests.helpers import API_KEY, REPO

CHATBOT = "3f1c9a2e-7b4d-4e8f-9a6b-2c5d8e1f0a37"
PATH = f"/chatbots/{CHATBOT}/conversations?page_size=100"


def listing(count, seed=1):
    """A valid fixture file listing `count` conversations of CHATBOT."""
    return json.dumps(fixture_document(CHATBOT, count, seed))


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def watched(tmp_path, make_app, capsys):
    """An app with reload on over an empty fixtures directory, its clock, and a GET helper."""
    app = make_app({"fixtures_dir": str(tmp_path), "reload": "true"})
    clock = Clock()
    reloader = app.extensions["layers"]["reload"].reloader
    reloader.clock, reloader._checked = clock, clock.now
    client = app.test_client()

    class Watched:
        directory = tmp_path

        def tick(self):
            clock.now += 1.01

        def served(self):
            """(X-Total-Count, ids) for CHATBOT, after the clock moved past the check interval."""
            self.tick()
            response = client.get(PATH, headers={"X-API-Key": API_KEY})
            assert response.status_code == 200
            return int(response.headers["X-Total-Count"]), [c["id"] for c in response.json]

        def log(self):
            return capsys.readouterr().err

    return Watched()


def _ids(document):
    return [c["id"] for c in json.loads(document)["chatbots"][0]["conversations"]]


def test_off_by_default(tmp_path, make_app, api_key):
    app = make_app({"fixtures_dir": str(tmp_path)})
    client = app.test_client()
    before = client.get(PATH, headers={"X-API-Key": api_key}).headers["X-Total-Count"]
    (tmp_path / "new.json").write_text(listing(3), encoding="utf-8")
    assert "reload" not in app.extensions
    assert client.get(PATH, headers={"X-API-Key": api_key}).headers["X-Total-Count"] == before != "3"


@pytest.mark.parametrize("value, on", [("true", True), ("1", True), ("false", False), ("0", False)])
def test_mock_reload_variable_turns_it_on(tmp_path, make_app, monkeypatch, value, on):
    monkeypatch.setenv("MOCK_RELOAD", value)
    assert ("reload" in make_app({"fixtures_dir": str(tmp_path)}).extensions["layers"]) is on


def test_add_edit_and_remove_are_picked_up(watched):
    generated_total, generated_ids = watched.served()
    assert generated_total >= 30

    added = listing(4)
    (watched.directory / "bot.json").write_text(added, encoding="utf-8")
    assert watched.served() == (4, _ids(added))
    assert "fixtures reloaded: 2 chatbots from 2 files" in watched.log()

    edited = listing(2, seed=9)
    (watched.directory / "bot.json").write_text(edited, encoding="utf-8")
    assert watched.served() == (2, _ids(edited))

    (watched.directory / "bot.json").unlink()
    assert watched.served() == (generated_total, generated_ids)
    assert "fixtures reloaded: 1 chatbots from 1 files" in watched.log()


def test_a_file_saved_by_renaming_over_the_old_one_is_picked_up(watched):
    # Editors that save by writing a new file and renaming it over the old one can leave the same
    # size and modification time: the inode tells the files apart.
    old, new = listing(3, seed=1), listing(3, seed=2)
    width = max(len(old.encode()), len(new.encode()))
    old, new = old + " " * (width - len(old.encode())), new + " " * (width - len(new.encode()))
    target = watched.directory / "bot.json"
    target.write_text(old, encoding="utf-8")
    assert watched.served() == (3, _ids(old))
    saved = watched.directory / "bot.json.swp"
    saved.write_text(new, encoding="utf-8")
    stat = target.stat()
    os.utime(saved, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(saved, target)
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert watched.served() == (3, _ids(new))


def test_checks_at_most_once_per_interval(watched):
    (watched.directory / "bot.json").write_text(listing(4), encoding="utf-8")
    watched.tick()
    total, _ = watched.served()  # this request checks and reloads
    assert total == 4
    (watched.directory / "bot.json").write_text(listing(2), encoding="utf-8")
    watched.tick()  # the next request comes 2.02 s later in all: checked, so 2 ...
    assert watched.served()[0] == 2
    (watched.directory / "bot.json").write_text(listing(5), encoding="utf-8")
    watched.tick = lambda: None  # ... but within the same interval nothing is looked at
    assert watched.served()[0] == 2


@pytest.mark.parametrize(
    "name, content, message, lines",
    [
        ("bot.json", '{"chatbots": [', "bot.json: not valid JSON: line 1 column", 1),
        ("bot.json", listing(3).replace('"platform": "', '"platform": "fax-', 1), "bot.json: chatbots[0].conversations", 1),
        ("bot.json", listing(3).replace('"platform": "', '"platform": "fax-', 2), "bot.json: chatbots[0].conversations", 2),
        ("bot.json", '{"chatbots": {}}', "bot.json: chatbots: Not a valid list.", 1),
        ("twin.json", listing(1), "twin.json: chatbots[0].id: chatbot " + CHATBOT + " is already defined in", 1),
    ],
    ids=["not-json", "one-platform", "two-platforms", "not-a-list", "twin"],
)
def test_broken_edit_keeps_last_good_data_and_says_why_once(watched, make_app, name, content, message, lines):
    good = listing(3)
    (watched.directory / "bot.json").write_text(good, encoding="utf-8")
    assert watched.served() == (3, _ids(good))
    watched.log()

    (watched.directory / name).write_text(content, encoding="utf-8")
    assert watched.served() == (3, _ids(good))
    with pytest.raises(FixtureError) as startup:
        make_app({"fixtures_dir": str(watched.directory)})
    assert message in str(startup.value)
    prefix = f"conversations-mock: worker {os.getpid()}: fixtures not reloaded, still serving the last good data: "
    problems = str(startup.value).splitlines()
    assert len(problems) == lines
    assert watched.log() == "".join(f"{prefix}{problem}\n" for problem in problems)

    # Touched again, still broken the same way: served as before, not said again.
    touched = (watched.directory / name).stat().st_mtime_ns + 10**9
    os.utime(watched.directory / name, ns=(touched, touched))
    assert watched.served() == (3, _ids(good))
    assert watched.served() == (3, _ids(good))
    assert watched.log() == ""

    fixed = listing(2, seed=4)
    (watched.directory / "bot.json").write_text(fixed, encoding="utf-8")
    if name != "bot.json":
        (watched.directory / name).unlink()
    assert watched.served() == (2, _ids(fixed))
    assert "fixtures reloaded" in watched.log()


def _total(url):
    request = urllib.request.Request(url + PATH, headers={"X-API-Key": API_KEY})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.headers["X-Total-Count"])


def _until(url, total, limit=10.0):
    """Poll until one request answers `total`; then every worker must answer it a second later."""
    deadline = time.monotonic() + limit
    while _total(url) != total:
        assert time.monotonic() < deadline, f"never served {total}"
        time.sleep(0.2)
    time.sleep(1.1)
    return [_total(url) for _ in range(8)]


def test_live_gunicorn_server_reloads(live_server, tmp_path):
    directory = tmp_path / "fixtures"
    directory.mkdir()
    server = live_server("--reload", "--fixtures", str(directory), "--workers", "2")
    generated = _total(server.url)

    (directory / "bot.json").write_text(listing(3), encoding="utf-8")
    assert _until(server.url, 3) == [3] * 8

    (directory / "bot.json").write_text('{"chatbots": [', encoding="utf-8")
    time.sleep(1.1)
    assert [_total(server.url) for _ in range(8)] == [3] * 8
    assert "fixtures not reloaded, still serving the last good data: " in server.log()
    assert f"{directory / 'bot.json'}: not valid JSON: line 1 column 15" in server.log()

    (directory / "bot.json").unlink()
    assert _until(server.url, generated) == [generated] * 8
    assert server.stop() == 0


def test_make_dev_serves_with_reload(tmp_path):
    result = subprocess.run(
        ["make", "-n", "-s", "dev", f"FIXTURES={tmp_path}", "PORT=9123"], cwd=REPO, capture_output=True, text=True,
        timeout=30, check=True,
    )
    assert f"PORT=9123 exec .venv/bin/conversations-mock serve --reload --fixtures {tmp_path}" in result.stdout
