"""The docs site (mkdocs.yml, docs/): built as `make docs` builds it, warnings as errors, nothing from the network."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

README_MAX_LINES = 250


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built by `mkdocs build --strict` into a fresh directory; the test fails with mkdocs' output."""
    site_dir = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(site_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # --strict stops on warnings it counts; anything else logged at WARNING (a plugin's own) fails here.
    assert "WARNING" not in result.stderr, result.stderr
    return site_dir


def test_every_page_of_the_nav_is_built(site):
    import yaml

    def pages(nav):
        for item in nav:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            yield from pages(value) if isinstance(value, list) else [value]

    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    for page in pages(config["nav"]):
        built = site / ("index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html")
        assert built.is_file(), page


def test_every_markdown_file_in_docs_is_in_the_nav():
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for path in (REPO / "docs").rglob("*.md"):
        assert f" {path.relative_to(REPO / 'docs').as_posix()}\n" in config, path


def test_the_site_loads_nothing_from_elsewhere(site):
    # Offline: no web fonts, scripts or stylesheets from another host.
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        outside = re.findall(r'<(?:link|script)[^>]+(?:href|src)="((?:https?:)?//[^"]+)"', html)
        assert outside == [], (page, outside)


def test_the_readme_is_short_and_names_the_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_MAX_LINES
    assert "make run" in readme and "make test" in readme


def test_the_readmes_links_to_files_of_the_repository_exist():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    targets = [target.split("#")[0] for target in re.findall(r"\]\(([^)]+)\)", readme)
               if not re.match(r"[a-z]+:", target) and not target.startswith("#")]
    assert targets, "the README links to no page of the docs"
    for target in targets:
        assert (REPO / target).exists(), target


def test_the_readmes_contents_point_at_its_headings():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    # GitHub's anchors: the heading in lower case, punctuation dropped, spaces as dashes.
    anchors = {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
               for heading in re.findall(r"^#+ (.+)$", readme, re.M)}
    links = re.findall(r"\]\(#([^)]+)\)", readme)
    assert links and set(links) <= anchors, set(links) - anchors
