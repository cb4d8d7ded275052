"""The wheel, installed in a fresh virtualenv: one package, its data inside, usable from a client project.

The wheel is built from a copy of this checkout and installed once, with its dependencies, into a
virtualenv that holds nothing else (pytest aside); every test here uses that install.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from importlib.metadata import version

import pytest

from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, REPO, LiveServer, require

VERSION = version("conversations-mock")
# What a build leaves in a source tree, and what is never source: not copied into the build.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "*.so"
)
# The client project's test settings and test file, as docs/pytest-plugin.md shows them
# (tests/test_docs_samples.py holds the page's blocks equal to these).
CLIENT_PYPROJECT = """\
[tool.pytest.ini_options]
# Your own packages (here app/ and schemas/) are imported from the project's root.
pythonpath = ["."]
"""
CLIENT_TEST = '''\
"""tests/test_conversations.py: our client's tests, against the conversations_mock fixture."""

import json
import urllib.request

from app import hello  # the project's own app package: the mock installs only conversations_mock

DOCUMENTED_CHATBOT = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"


def test_our_own_app_is_imported():
    assert hello() == "client app"


def test_reads_the_documented_chatbot(conversations_mock):
    url = conversations_mock.conversations_url(DOCUMENTED_CHATBOT)
    assert url == f"{conversations_mock.url}/chatbots/{DOCUMENTED_CHATBOT}/conversations"
    request = urllib.request.Request(url, headers={"X-API-Key": conversations_mock.api_key})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["X-Total-Count"] == "10"
        conversations = json.load(response)
    assert [c["chatbot_id"] for c in conversations] == [DOCUMENTED_CHATBOT] * 10
'''
# Beside the docs' example: value-for-value checks and the rest of the plugin's API, from the install.
CLIENT_CHECKS = '''\
"""The installed plugin serves the document's values and keeps its public API."""

import json
import sys
import urllib.request
from pathlib import Path

import conversations_mock as package
import schemas

DOCUMENTED_CHATBOT = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
LOADED_CHATBOT = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"


def fetch(mock, chatbot_id):
    request = urllib.request.Request(mock.conversations_url(chatbot_id), headers={"X-API-Key": mock.api_key})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_the_mock_comes_from_the_virtualenv_and_schemas_from_the_project():
    assert Path(package.__file__).is_relative_to(sys.prefix)
    assert schemas.NAME == "client schemas"


def test_serves_the_documented_conversations_value_for_value(conversations_mock):
    expected = json.loads((Path(__file__).parent / "documented.json").read_text(encoding="utf-8"))
    assert conversations_mock.url.startswith("http://127.0.0.1:")
    assert conversations_mock.api_key == "%(key)s"
    assert fetch(conversations_mock, DOCUMENTED_CHATBOT) == expected


def test_load_fixture_seed_and_journal(conversations_mock):
    conversations_mock.load_fixture({"chatbots": [{"id": LOADED_CHATBOT, "generated": {"count": 3}}]})
    conversations_mock.seed = 7
    assert conversations_mock.seed == 7
    assert len(fetch(conversations_mock, LOADED_CHATBOT)) == 3
    assert [(entry.path, entry.status) for entry in conversations_mock.journal] == [
        (f"/chatbots/{LOADED_CHATBOT}/conversations", 200)
    ]
''' % {"key": API_KEY}
CLIENT_TESTS_PASSED = "5 passed"


def run(command, timeout=300, **kwargs):
    """Run a command to completion; a failure shows what it printed."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def documented_conversations():
    """The documented chatbot's conversations, as fixtures/documented-example.json lists them."""
    fixture = json.loads((REPO / "fixtures" / "documented-example.json").read_text(encoding="utf-8"))
    [chatbot] = [bot for bot in fixture["chatbots"] if bot["id"] == DOCUMENTED_CHATBOT]
    return chatbot["conversations"]


def client_environment():
    """The machine's environment without what would change what the client project sees."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PORT")
    return {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("MOCK_")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel built by pip from a copy of this checkout (a build writes into its source tree)."""
    work = tmp_path_factory.mktemp("build")
    shutil.copytree(REPO, work / "source", ignore=NOT_SOURCE)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"), str(work / "source")])
    [built] = (work / "dist").glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel):
    """A fresh virtualenv with the wheel, its dependencies and pytest installed, and nothing of this checkout."""
    path = tmp_path_factory.mktemp("venv") / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    # This environment's pip installs into it: quicker than bootstrapping a pip of its own.
    run([sys.executable, "-m", "pip", "--python", str(path / "bin" / "python"), "install", "--quiet",
         str(wheel), f"pytest=={pytest.__version__}"], env=client_environment())
    return path


@pytest.fixture(scope="module")
def client_project(tmp_path_factory):
    """A client team's project with its own `app` and `schemas` packages and tests using the fixture."""
    root = tmp_path_factory.mktemp("client")
    files = {
        "pyproject.toml": CLIENT_PYPROJECT,
        "app/__init__.py": 'def hello():\n    return "client app"\n',
        "schemas/__init__.py": 'NAME = "client schemas"\n',
        "tests/test_conversations.py": CLIENT_TEST,
        "tests/test_installed_plugin.py": CLIENT_CHECKS,
        "tests/documented.json": json.dumps(documented_conversations()),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_wheel_holds_one_package_with_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"conversations_mock", f"conversations_mock-{VERSION}.dist-info"}
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("conversations_mock/fixtures/documented-example.json")
        pools = json.loads(archive.read("conversations_mock/data/message_pools.json"))
        entry_points = archive.read(f"conversations_mock-{VERSION}.dist-info/entry_points.txt").decode()
    assert shipped == (REPO / "fixtures" / "documented-example.json").read_bytes()
    assert pools == json.loads((REPO / "app" / "data" / "message_pools.json").read_bytes())
    # The dashboard's page and files (GET /__mock/ui), every one it serves: nothing comes from elsewhere.
    static = REPO / "app" / "web" / "static"
    with zipfile.ZipFile(wheel) as archive:
        for path in static.iterdir():
            assert archive.read(f"conversations_mock/web/static/{path.name}") == path.read_bytes()
    assert re.search(r"(?m)^conversations-mock = conversations_mock\.commands\.cli:main$", entry_points)
    assert re.search(r"(?m)^conversations_mock = conversations_mock\.pytest_plugin$", entry_points)
    # The page builder's C helpers, compiled for this Python (the same functions in Python serve without them).
    require("cc")
    assert [name for name in names if re.fullmatch(r"conversations_mock/data/_speedups\..+\.so", name)]


@pytest.mark.parametrize("runner", [["bin/pytest"], ["bin/python", "-m", "pytest"]])
def test_a_client_project_uses_the_fixture_beside_its_own_app_and_schemas(venv, client_project, runner):
    command = [str(venv / runner[0]), *runner[1:], "-q", "-p", "no:cacheprovider"]
    result = run(command, cwd=client_project, env=client_environment())
    assert CLIENT_TESTS_PASSED in result.stdout, result.stdout


def test_the_installed_command_prints_its_version(venv, tmp_path):
    result = run([str(venv / "bin" / "conversations-mock"), "--version"], cwd=tmp_path, env=client_environment())
    assert result.stdout == f"conversations-mock {VERSION}\n"


def test_the_installed_package_uses_its_c_helpers(venv, tmp_path):
    require("cc")
    check = "from conversations_mock.data.compiled import is_compiled; print(is_compiled())"
    result = run([str(venv / "bin" / "python"), "-c", check], cwd=tmp_path, env=client_environment())
    assert result.stdout == "True\n"


def test_the_installed_command_serves_from_another_directory(venv, tmp_path):
    (tmp_path / "log").mkdir()
    env = {**client_environment(), "LOG_DIR": str(tmp_path / "log")}
    server = LiveServer(["--workers", "1"], env, program=[str(venv / "bin" / "conversations-mock")], cwd=tmp_path)
    try:
        assert f"conversations-mock {VERSION}: serving on {server.url} " in server.log()
        url = f"{server.url}/chatbots/{DOCUMENTED_CHATBOT}/conversations"
        request = urllib.request.Request(url, headers={"X-API-Key": API_KEY})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response) == documented_conversations()
        with urllib.request.urlopen(f"{server.url}/openapi.json", timeout=10) as response:
            assert (response.status, json.load(response)["openapi"]) == (200, "3.0.3")
        with urllib.request.urlopen(f"{server.url}/docs", timeout=10) as response:
            assert (response.status, response.headers.get_content_type()) == (200, "text/html")
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as response:
            health = json.load(response)
            assert (health["status"], health["version"], health["clock"]["mode"]) == ("ok", VERSION, "fixed")
    finally:
        assert server.stop() == 0
