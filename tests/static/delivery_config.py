"""Read the delivery files (workflows, composite actions, Dockerfiles) for the static tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
ACTIONS = REPO / ".github" / "actions"
TOOLS = REPO / ".venv-tools" / "bin"
# Directories that hold no source of ours (virtualenvs, caches, local data).
NOT_SOURCE = {".git", ".venv", ".venv-tools", ".lock-venv", ".bqingest", "node_modules", "build"}
AUTH_ACTION = "google-github-actions/auth"
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")


def tool(name: str) -> Path:
    """A static checker from .venv-tools, or a failure that says how to get it."""
    path = TOOLS / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make tools` (make test builds it)")
    return path


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def action_files() -> list[Path]:
    return sorted(ACTIONS.glob("*/action.yml"))


def dockerfiles() -> list[Path]:
    """Every Dockerfile in the repository (Dockerfile, dataflow/Dockerfile, x.Dockerfile...)."""
    found = []
    for path in REPO.rglob("*Dockerfile*"):
        parts = set(path.relative_to(REPO).parts)
        if path.is_file() and not parts & NOT_SOURCE and not path.name.endswith(".dockerignore"):
            found.append(path)
    return sorted(found)


@cache
def load_yaml(path: Path) -> dict[str, Any]:
    """A workflow or action as a dict; PyYAML reads the key ``on`` as True, put it back."""
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path}: not a mapping"
    if True in document:
        document["on"] = document.pop(True)
    return document


@dataclass(frozen=True)
class Uses:
    """One ``uses:`` reference and the line it is written on."""

    file: Path
    line: str
    ref: str


def uses_references() -> list[Uses]:
    """Every ``uses:`` of every workflow and composite action, with its raw line (comments)."""
    found = []
    for path in workflow_files() + action_files():
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)", line)
            if match:
                found.append(Uses(path, line, match.group(1)))
    return found


def steps_of(path: Path) -> list[dict[str, Any]]:
    return list(load_yaml(path)["runs"]["steps"])


def local_action(ref: str) -> Path | None:
    """The action.yml a local ``uses: ./.github/actions/NAME`` refers to."""
    if ref.startswith("./.github/actions/"):
        return REPO / ref.removeprefix("./") / "action.yml"
    return None


def step_authenticates(step: dict[str, Any]) -> bool:
    """The step runs google-github-actions/auth, directly or through a local composite action."""
    ref = str(step.get("uses", ""))
    if ref.split("@")[0] == AUTH_ACTION:
        return True
    path = local_action(ref)
    return path is not None and any(step_authenticates(s) for s in steps_of(path))


def jobs() -> list[tuple[Path, str, dict[str, Any]]]:
    return [
        (path, name, job)
        for path in workflow_files()
        for name, job in load_yaml(path)["jobs"].items()
    ]


def run_scripts() -> list[tuple[Path, str, str]]:
    """(file, step name, script) of every ``run:`` in workflows and composite actions."""
    scripts = []
    for path, _, job in jobs():
        for step in job.get("steps", []):
            if "run" in step:
                scripts.append((path, str(step.get("name", step["run"][:40])), step["run"]))
    for path in action_files():
        for step in steps_of(path):
            if "run" in step:
                scripts.append((path, str(step.get("name", step["run"][:40])), step["run"]))
    return scripts


def step_named(path: Path, job: str, name: str) -> dict[str, Any]:
    for step in load_yaml(path)["jobs"][job]["steps"]:
        if step.get("name") == name:
            return dict(step)
    raise AssertionError(f"{path.name}: job {job} has no step named {name!r}")


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, current = [], ""
    for line in path.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            joined.append(current.strip())
            current = ""
    return [(i.split(" ", 1)[0].upper(), i.split(" ", 1)[1]) for i in joined]


def final_stage(path: Path) -> list[tuple[str, str]]:
    instructions = dockerfile_instructions(path)
    last_from = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    return instructions[last_from:]


def dockerfile_args(path: Path) -> dict[str, str]:
    """The default of every ``ARG NAME=default``."""
    return dict(
        a.split("=", 1) for k, a in dockerfile_instructions(path) if k == "ARG" and "=" in a
    )


def dockerfile_env(path: Path) -> dict[str, str]:
    """Every ``ENV NAME=value`` of the final stage."""
    import shlex

    env: dict[str, str] = {}
    for key, arguments in final_stage(path):
        if key == "ENV":
            for pair in shlex.split(arguments):
                name, value = pair.split("=", 1)
                env[name] = value
    return env


def constraint_pins() -> dict[str, str]:
    """constraints.txt as normalised name -> version."""
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins
