"""``bqingest schemas list | show | check``: the schema registry for producers and reviewers.

``check`` lints the registry folder (every rule of :func:`bqingest.contract.registry.lint`) and,
with ``--base REF``, compares it with the same folder at a git ref (the pull request's target
branch in CI): a change that is not compatible within a major version fails the check
(:func:`bqingest.contract.registry.breaking_changes`).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bqingest.contract import typed_views
from bqingest.contract.registry import (
    SHIPPED_SCHEMAS,
    SchemaError,
    SchemaRegistry,
    breaking_changes,
    read_folder,
    schemas_from,
)


def describe(registry: SchemaRegistry) -> list[dict[str, Any]]:
    """Each registered type and version with its view and typed columns (``schemas list``)."""
    return [
        {
            "type": schema.type,
            "version": schema.major,
            "current": registry.current(schema.type) == schema,
            "dataschema": schema.id,
            "view": schema.view,
            "columns": [
                {"name": c.name, "type": c.type, "pointer": c.pointer}
                for c in typed_views.columns(schema)
            ],
        }
        for schema in registry.schemas
    ]


def _git(folder: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args], check=True, capture_output=True, text=True
        )
    except FileNotFoundError:
        raise SchemaError("git is not installed: --base needs it") from None
    except subprocess.CalledProcessError as exc:
        raise SchemaError(f"git {' '.join(args)}: {exc.stderr.strip()[:300]}") from None
    return done.stdout


def documents_at(folder: Path, ref: str) -> dict[str, Any]:
    """The registry folder's ``*.json`` files as they are at git ``ref``, parsed."""
    folder = folder.resolve()
    prefix = _git(folder, "rev-parse", "--show-prefix").strip()
    listed = _git(
        folder, "ls-tree", "-r", "--name-only", "--full-name", ref, "--", "."
    ).splitlines()
    documents: dict[str, Any] = {}
    for path in listed:
        relative = path[len(prefix) :] if path.startswith(prefix) else path
        if relative.endswith(".json"):
            text = _git(folder, "show", f"{ref}:{path}")
            try:
                documents[relative] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SchemaError(f"{relative} at {ref}: not JSON: {exc}") from None
    return documents


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What ``schemas check`` found: the rules broken and the incompatible changes."""

    folder: Path
    schemas: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check(folder: Path | None, *, base: str | None = None) -> CheckReport:
    """Lint the registry; with ``base``, also compare it with the folder at that git ref."""
    folder = folder or SHIPPED_SCHEMAS
    documents = read_folder(folder)
    problems: list[str] = []
    count = 0
    try:
        count = len(schemas_from(documents))
    except SchemaError as exc:
        problems += str(exc).split("; ")
    if base is not None:
        problems += breaking_changes(documents_at(folder, base), documents)
    return CheckReport(folder=folder, schemas=count, problems=problems)
