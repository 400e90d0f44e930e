"""The package's parts import each other in one direction only (docs/adr/0007-package-layout.md).

Read from the source with ``ast``: every ``import`` and ``from ... import`` of ``bqingest.*``,
function-level ones included, is an edge between two parts; each part may depend only on the
parts listed for it, and the graph of parts has no cycle.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "bqingest"

# ``errors`` (the root of the project's exceptions) is below everything: any part may raise.
_BASE = {"errors", "clock", "contract", "formats", "metric_names", "telemetry"}
_CORE = _BASE | {"config", "clients"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "clock": {"errors"},
    "contract": {"errors"},
    "formats": {"errors"},
    "metric_names": {"errors"},
    "telemetry": {"errors"},
    "config": {"errors", "contract", "formats"},
    "clients": {"config"},
    "warehouse": _CORE,
    "source": _CORE,
    "pipeline": _CORE | {"warehouse"},
    "bootstrap": _CORE,
    "api": _CORE | {"warehouse"},
    "operations": _CORE | {"warehouse", "source", "pipeline", "bootstrap"},
    "local": _CORE | {"warehouse", "source", "bootstrap", "operations"},
    "cli": _CORE | {"warehouse", "source", "pipeline", "api", "bootstrap", "operations", "local"},
    "__main__": {"cli"},
}


def part_of(module: str) -> str:
    """``bqingest.api.routes.events`` -> ``api``; ``bqingest`` itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    names = list(relative.parts)
    if names[-1] == "__init__":
        names.pop()
    return ".".join(names)


def imports_of(path: Path, package: Path = PACKAGE) -> set[str]:
    """Every bqingest module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path, package).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            found.add(base)
    return {name for name in found if name == "bqingest" or name.startswith("bqingest.")}


def edges(package: Path = PACKAGE) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        source = part_of(module_name(path, package))
        targets = {part_of(name) for name in imports_of(path, package)} - {source, "__init__"}
        graph.setdefault(source, set()).update(targets)
    return graph


def test_every_part_is_listed() -> None:
    assert set(edges()) - {"__init__"} == set(ALLOWED)


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_a_part_imports_only_what_is_below_it(part: str) -> None:
    assert edges().get(part, set()) <= ALLOWED[part], (
        f"{part} imports {sorted(edges()[part] - ALLOWED[part])}, which it must not"
    )


def test_the_pipeline_ships_nothing_of_the_local_stack_the_api_or_operations() -> None:
    assert not edges()["pipeline"] & {"local", "api", "operations"}


def test_parts_form_no_cycle() -> None:
    try:
        TopologicalSorter(edges()).prepare()
    except CycleError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"import cycle between parts: {exc.args[1]}")


def forbidden(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The edges of ``graph`` that ``ALLOWED`` does not allow, by part."""
    wrong = {part: targets - ALLOWED.get(part, set()) for part, targets in graph.items()}
    return {part: targets for part, targets in wrong.items() if targets}


def test_the_checker_sees_relative_and_function_level_imports(tmp_path: Path) -> None:
    """The checker itself, on a fake package whose contract imports the local stack three ways:
    at module level, inside a function, and relatively; each must be a forbidden edge."""
    package = tmp_path / "bqingest"
    (package / "contract").mkdir(parents=True)
    (package / "local").mkdir()
    (package / "__init__.py").write_text("")
    (package / "contract" / "__init__.py").write_text("")
    (package / "local" / "up.py").write_text("")
    (package / "local" / "errors.py").write_text("")
    (package / "contract" / "eager.py").write_text("import bqingest.local.up\n")
    (package / "contract" / "lazy.py").write_text("def f():\n    from bqingest.local import up\n")
    (package / "contract" / "relative.py").write_text("from ..local.errors import X\n")
    (package / "contract" / "fine.py").write_text("from . import eager\n")

    assert imports_of(package / "contract" / "eager.py", package) == {"bqingest.local.up"}
    assert imports_of(package / "contract" / "lazy.py", package) == {"bqingest.local"}
    assert imports_of(package / "contract" / "relative.py", package) == {"bqingest.local.errors"}
    assert imports_of(package / "contract" / "fine.py", package) == {"bqingest.contract"}
    assert forbidden(edges(package)) == {"contract": {"local"}}
    # The real package has none: the same function the parametrized test above applies.
    assert forbidden(edges()) == {}
