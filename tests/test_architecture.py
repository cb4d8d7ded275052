"""The layout's rules (docs/architecture.md): which folders may import which, and one package name."""

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO

# folder -> import prefixes its modules must never use.
FORBIDDEN = {
    "schemas": ("flask", "werkzeug", "webargs", "conversations_mock.web", "conversations_mock.data",
                "conversations_mock.commands", "conversations_mock.factory", "conversations_mock.settings"),
    "app/data": ("flask", "werkzeug", "webargs", "conversations_mock.web", "conversations_mock.commands"),
    "app/web": ("conversations_mock.commands",),
    # Stores are plain Python over their backends: no web framework, no HTTP layer, no commands.
    "app/store": ("flask", "werkzeug", "webargs", "conversations_mock.web", "conversations_mock.commands",
                  "conversations_mock.data", "conversations_mock.factory"),
    # The folders' own names are not packages once installed: conversations_mock is the only one.
    "app": ("app", "schemas", "fixtures"),
    "tests": ("app", "schemas", "fixtures"),
}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("folder", FORBIDDEN)
def test_a_folder_imports_only_what_its_layer_may(folder):
    wrong = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sorted((REPO / folder).rglob("*.py"))
        for name in _imports(path)
        if any(name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN[folder])
    ]
    assert wrong == []


def test_every_module_says_what_it_is():
    missing = [str(path.relative_to(REPO)) for folder in ("app", "schemas", "fixtures")
               for path in sorted((REPO / folder).rglob("*.py")) if ast.get_docstring(ast.parse(path.read_text())) is None]
    assert missing == []
