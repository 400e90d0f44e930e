"""The README is a map and the docs are reachable: links resolve, every page is indexed.

Checked: every relative link in README.md and docs/ names a file that exists (and, with an anchor,
a heading of that file); every page under docs/ is linked from docs/README.md; the README stays
a map (a size budget), not a manual.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

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


# References written in prose, comments and docstrings, which no link checker follows.
_REFERENCING_SUFFIXES: Final = {".py", ".md", ".yml", ".yaml", ".toml", ".tf", ".sql", ".sh"}
_REFERENCING_NAMES: Final = {"Dockerfile", "Makefile"}
_SKIPPED_DIRS: Final = {".git", ".venv", ".venv-tools", "node_modules", "build", "dist"}
_DOCS_PATH = re.compile(r"(?<![\w/.-])docs/[\w./-]*?\.md\b")
_ADR_FILE = re.compile(r"(?<![\w/.-])docs/adr/(\d{4})(?![\w-]*\.md)")
_ADR_NAME = re.compile(r"\bADR[ -]?(\d{4})\b")
_README_SECTION = re.compile(
    r"README(?:'s|,|\s+section)?\s+\"([^\"]+)\""  # README, "X" / README's "X"
    r"|README,\s+([A-Z][\w -]*?)[);.]"  # README, X)
    r"|README's\s+([A-Z][\w -]*?)\s+section"  # README's X section
)
_SPHINX_ROLE = re.compile(r":(?:class|func|meth|mod|data|exc|attr):`~?(bqingest(?:\.\w+)+)`")


def referencing_files() -> list[Path]:
    found = []
    for path in REPO.rglob("*"):
        parts = path.relative_to(REPO).parts
        if any(part in _SKIPPED_DIRS or part.endswith(".egg-info") for part in parts):
            continue
        if path.is_file() and (
            path.suffix in _REFERENCING_SUFFIXES or path.name in _REFERENCING_NAMES
        ):
            found.append(path)
    return sorted(found)


def readme_sections() -> set[str]:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    return {line.lstrip("#").strip().lower() for line in lines if line.startswith("#")}


def stale_references(path: Path, text: str) -> list[str]:
    """What ``text`` (the content of ``path``) names that does not exist: a docs page, an ADR,
    a README section, or a bqingest object named in a Sphinx role."""
    stale = []
    for match in _DOCS_PATH.finditer(text):
        target = match.group(0)
        if not (REPO / target).is_file() and not (path.parent / target).is_file():
            stale.append(target)
    for pattern in (_ADR_FILE, _ADR_NAME):
        for number in pattern.findall(text):
            if not list((DOCS / "adr").glob(f"{number}-*.md")):
                stale.append(f"ADR {number}")
    sections = readme_sections()
    for groups in _README_SECTION.findall(text):
        section = " ".join(next(group for group in groups if group).split())
        if section.lower() not in sections:
            stale.append(f'README section "{section}"')
    for dotted in _SPHINX_ROLE.findall(text):
        if not resolves(dotted):
            stale.append(dotted)
    return stale


def resolves(dotted: str) -> bool:
    """Whether ``bqingest.a.B.c`` names a module, or an attribute of one."""
    import importlib

    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def test_references_in_code_config_and_docs_exist() -> None:
    """A docs path, ``ADR NNNN``, a README section or a ``:class:`bqingest...``` role must name
    something that exists, wherever it is written (comments, docstrings, YAML, Markdown...)."""
    stale = {}
    for path in referencing_files():
        if path == Path(__file__).resolve():
            continue  # this file's patterns and examples
        found = stale_references(path, path.read_text(encoding="utf-8", errors="replace"))
        if found:
            stale[str(path.relative_to(REPO))] = found
    assert stale == {}


@pytest.mark.parametrize(
    "text",
    [
        "see docs/no-such-page.md",
        "(docs/adr/0006-package-layout.md)",
        "(docs/adr/0099)",
        "as ADR 0099 decided",
        'README,\n  "Cost notes"',
        "(README, Configuration)",
        'the README\'s "Two commands"',
        ":class:`~bqingest.api.errors.DeadlineExceeded`",
    ],
)
def test_the_reference_check_flags_what_does_not_exist(text: str) -> None:
    assert stale_references(REPO / "x.py", text) != []


@pytest.mark.parametrize(
    "text",
    [
        "see docs/api.md and docs/adr/0007-package-layout.md",
        "(docs/adr/0002)",
        "as ADR 0009 decided",
        'README, "Quick start"',
        ":class:`~bqingest.api.errors.UpstreamTimeout`",
    ],
)
def test_the_reference_check_accepts_what_exists(text: str) -> None:
    assert stale_references(REPO / "x.py", text) == []


def _readme_section(title: str) -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_map_names_every_part_of_the_package() -> None:
    """A module or package added under src/bqingest appears in the map and the import sentence."""
    from tests.unit.test_layering import ALLOWED

    section = _readme_section("Repository map")
    package = REPO / "src" / "bqingest"
    for entry in sorted(package.iterdir()):
        if entry.name in {"__init__.py", "__main__.py", "py.typed", "__pycache__"}:
            continue
        if entry.is_dir() or entry.suffix == ".py":
            name = f"{entry.name}/" if entry.is_dir() else entry.name
            assert f"`{name}`" in section or f"/{name}`" in section, f"the map leaves out {name}"
    sentence = " ".join(section.split("Imports point one way", 1)[1].split())
    for part in set(ALLOWED) - {"__main__", "cli"}:
        assert re.search(rf"\b{part}\b", sentence), f"the import sentence leaves out {part}"
    assert "warehouse <- {pipeline, api}" in sentence  # the edge ADR 0007 gives the pipeline
