"""The README is a map and the docs are reachable: links resolve, every page is indexed.

Checked: every relative link in README.md and docs/ names a file that exists (and, with an anchor,
a heading of that file); every page under docs/ is linked from docs/README.md; the README stays
a map (a size budget), not a manual.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
README_BUDGET = 12 * 1024


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def headings(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {anchor(line.lstrip("#")) for line in lines if line.startswith("#")}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page: Path) -> None:
    for target in _LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / path_part).resolve()
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if fragment and resolved.suffix == ".md":
            assert fragment in headings(resolved), f"{page.name}: no heading #{fragment}"


def test_every_doc_is_reachable_from_the_index() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    linked = {(DOCS / target.partition("#")[0]).resolve() for target in _LINK.findall(index)}
    for page in DOCS.rglob("*.md"):
        if page.name != "README.md":
            missing = page.relative_to(DOCS)
            assert page.resolve() in linked, f"docs/README.md does not link {missing}"


def test_the_readme_is_a_map_within_its_budget() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) <= README_BUDGET
    for command in ("make run", "make test"):
        assert command in readme
