"""`conversations-mock generate` writes fixture files the server then serves as they are."""

import json

import pytest

from conversations_mock.commands.cli import main
from conversations_mock.data.fixtures import read_fixture_file
from tests.helpers import GENERATED_CHATBOT

CHATBOT = "3f1c9a2e-7b4d-4e8f-9a6b-2c5d8e1f0a37"


def _all_pages(get, chatbot_id, page_size=10):
    items, page = [], 1
    while True:
        response = get(f"/chatbots/{chatbot_id}/conversations?page={page}&page_size={page_size}")
        assert response.status_code == 200
        if not response.json:
            return items, int(response.headers["X-Total-Count"])
        items.extend(response.json)
        page += 1


def test_generated_file_is_served_as_written(tmp_path, make_app, api_key, capsys):
    out = tmp_path / "frozen.json"
    assert main(["generate", "--chatbot", CHATBOT, "--count", "23", "--seed", "7", "--out", str(out)]) == 0
    assert "wrote 23 conversations" in capsys.readouterr().err
    document = json.loads(out.read_text(encoding="utf-8"))
    listed = document["chatbots"][0]["conversations"]
    assert document["chatbots"][0]["id"] == CHATBOT and len(listed) == 23
    assert len(read_fixture_file(out)[0]["conversations"]) == 23

    # A server whose own seed differs serves the file's conversations, not its own.
    app = make_app({"fixtures_dir": str(tmp_path), "seed": "99"})
    client = app.test_client()

    def get(path):
        return client.get(path, headers={"X-API-Key": api_key})

    served, total = _all_pages(get, CHATBOT)
    assert total == 23
    assert served == listed
    in_progress, _ = _all_pages(lambda p: get(p + "&state=in_progress"), CHATBOT)
    assert in_progress == [c for c in listed if c["state"] == "in_progress"]


def test_same_seed_freezes_what_the_server_generates(tmp_path, make_app, api_key):
    out = tmp_path / "frozen.json"
    assert main(["generate", "--chatbot", GENERATED_CHATBOT, "--count", "15", "--seed", "5", "--out", str(out)]) == 0
    listed = json.loads(out.read_text(encoding="utf-8"))["chatbots"][0]["conversations"]
    # Timestamps spread over the history's length, so the server must hold 15 conversations too.
    live = make_app({"seed": "5", "conversations": "15"}).test_client().get(
        f"/chatbots/{GENERATED_CHATBOT}/conversations?page_size=15", headers={"X-API-Key": api_key}
    )
    assert live.json == listed


@pytest.mark.parametrize("clock", ["fixed", "2026-06-01T12:00:00Z", "2025-01-20T00:00:00+01:00"])
def test_clock_freezes_that_moment_of_what_the_server_generates(tmp_path, make_app, api_key, capsys, clock):
    out = tmp_path / "frozen.json"
    args = ["generate", "--chatbot", GENERATED_CHATBOT, "--count", "15", "--seed", "5", "--clock", clock]
    assert main([*args, "--out", str(out)]) == 0
    listed = json.loads(out.read_text(encoding="utf-8"))["chatbots"][0]["conversations"]
    live = make_app({"seed": "5", "conversations": "15", "clock": clock}).test_client().get(
        f"/chatbots/{GENERATED_CHATBOT}/conversations?page_size=15", headers={"X-API-Key": api_key}
    )
    # The newest 15 at that instant (fewer before the fixed clock's: not all had arrived then).
    assert live.json == listed and len(listed) == min(15, int(live.headers["X-Total-Count"]))
    assert f"wrote {len(listed)} conversations" in capsys.readouterr().err


def test_out_dash_writes_to_stdout(capsys):
    assert main(["generate", "--chatbot", CHATBOT.upper(), "--count", "2", "--out", "-"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["chatbots"][0]["id"] == CHATBOT
    assert [c["chatbot_id"] for c in document["chatbots"][0]["conversations"]] == [CHATBOT, CHATBOT]


def test_existing_file_is_kept_unless_forced(tmp_path, capsys):
    out = tmp_path / "keep.json"
    out.write_text("mine", encoding="utf-8")
    assert main(["generate", "--chatbot", CHATBOT, "--count", "1", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"conversations-mock generate: {out} exists; pass --force to overwrite it.\n"
    assert out.read_text(encoding="utf-8") == "mine"
    assert main(["generate", "--chatbot", CHATBOT, "--count", "1", "--out", str(out), "--force"]) == 0
    assert len(json.loads(out.read_text(encoding="utf-8"))["chatbots"][0]["conversations"]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    "args, message",
    [
        (["--chatbot", "not-a-uuid", "--count", "3"], "--chatbot 'not-a-uuid' is not a UUID"),
        # Spelled as the server's path refuses it: the file would name a chatbot no request reaches so.
        (["--chatbot", "{5afe16ed-5fd2-4552-a993-903bc9c32bb6}", "--count", "3"], "is not a UUID"),
        (["--chatbot", CHATBOT, "--count", "-3"], "--count -3 is negative"),
        (["--chatbot", CHATBOT, "--count", "ten"], "--count 'ten' is not a whole number"),
        (["--chatbot", CHATBOT, "--count", "10001"], "--count 10001 is out of range; give one from 0 to 10000"),
        (["--chatbot", CHATBOT, "--count", "3", "--seed", "1.5"], "--seed '1.5' is not a whole number"),
        (["--chatbot", CHATBOT, "--count", "3", "--clock", "soon"],
         "--clock 'soon': Must be 'fixed' (the frozen instant 2025-03-07T06:00:00Z), 'now' (the server's wall clock) "
         "or an ISO 8601 instant with a UTC offset, e.g. 2026-06-01T12:00:00Z."),
    ],
)
def test_bad_arguments_end_with_one_line(tmp_path, capsys, args, message):
    out = tmp_path / "never.json"
    assert main(["generate", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists()


def test_unwritable_destination_exits_1(tmp_path, capsys):
    out = tmp_path / "missing-dir" / "x.json"
    assert main(["generate", "--chatbot", CHATBOT, "--count", "1", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"conversations-mock generate: cannot write {out}:") and err.count("\n") == 1


@pytest.mark.parametrize("spelling", ["relative", "absolute", "from inside", "through a link", "forced"])
def test_the_packages_own_fixtures_folder_is_refused(builtin_fixtures, tmp_path, monkeypatch, capsys, spelling):
    """The README's `--out fixtures/frozen.json`, run in the checkout, would change what every server serves."""
    monkeypatch.chdir(builtin_fixtures.parent)
    (tmp_path / "link").symlink_to(builtin_fixtures)
    out, extra = {
        "relative": (f"{builtin_fixtures.name}/frozen.json", []),
        "absolute": (str(builtin_fixtures / "frozen.json"), []),
        "from inside": ("frozen.json", []),
        "through a link": (str(tmp_path / "link" / "frozen.json"), []),
        "forced": (f"{builtin_fixtures.name}/documented-example.json", ["--force"]),
    }[spelling]
    if spelling == "from inside":
        monkeypatch.chdir(builtin_fixtures)
    assert main(["generate", "--chatbot", GENERATED_CHATBOT, "--count", "25", "--out", out, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"conversations-mock generate: --out {out} is in the package's own fixtures folder "
                          f"({builtin_fixtures})")
    assert "--out my-fixtures/" in err and "--fixtures my-fixtures" in err


def test_a_folder_named_fixtures_elsewhere_is_written(tmp_path, monkeypatch, capsys):
    # A client project's own fixtures/ folder is where the file belongs.
    (tmp_path / "fixtures").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--chatbot", GENERATED_CHATBOT, "--count", "3", "--out", "fixtures/frozen.json"]) == 0
    assert len(read_fixture_file(tmp_path / "fixtures" / "frozen.json")[0]["conversations"]) == 3
